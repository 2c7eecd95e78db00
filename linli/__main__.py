"""The ``linli`` console command: Django's management commands under a friendlier name."""

import os
import sys

from django.core.management import execute_from_command_line


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")
    argv = list(sys.argv)
    argv[0] = "linli"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
