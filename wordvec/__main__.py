"""``python -m wordvec ...``: the ``wordvec`` command, for when its script is not on PATH."""

from wordvec.cli import main

if __name__ == "__main__":
    main()
