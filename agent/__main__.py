"""``python -m bmnn_guard.agent``: run the bmnn-agent daemon with the live watch (see agent/watch.py)."""

import sys

from bmnn_guard.agent.watch import main

if __name__ == "__main__":
    sys.exit(main())
