"""`python -m loopscope` runs the command line."""
import sys

from loopscope.cli import main

sys.exit(main())
