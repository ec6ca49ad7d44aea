import sys

from replab.cli import main

sys.exit(main())
