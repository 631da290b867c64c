import sys

from salus.cli import main

sys.exit(main())
