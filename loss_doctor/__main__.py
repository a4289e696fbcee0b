"""``python -m loss_doctor`` is the ``loss-doctor`` command."""

import sys

from loss_doctor.cli import main

if __name__ == "__main__":
    sys.exit(main())
