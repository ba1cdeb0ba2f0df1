"""``python -m agent``: run the bmnn-agent daemon (see agent/daemon.py)."""

import sys

from agent.daemon import main

if __name__ == "__main__":
    sys.exit(main())
