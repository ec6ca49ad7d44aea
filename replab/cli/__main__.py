import sys

try:
    from replab.cli import main
except KeyboardInterrupt:  # Ctrl-C while the libraries load: nothing started yet
    print("replab: interrupted (Ctrl-C)", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
