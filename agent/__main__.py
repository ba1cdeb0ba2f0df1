"""``python -m agent``: run the bmnn-agent daemon with the live watch (see agent/watch.py)."""

import sys

from agent.watch import main

if __name__ == "__main__":
    sys.exit(main())
