"""Files shipped inside the package, in ``wordvec/data/``: the default corpus and the datasets.

They are package data (``[options.package_data]`` in setup.cfg), so a wheel or any non-editable
install carries them; nothing is looked up outside the package folder.
"""

import os

from .errors import WordvecError

DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BUNDLED_CORPUS = os.path.join(DATA_DIR, "gutenberg-pd.txt.xz")


def bundled_corpus():
    """Path of the small public-domain corpus ``wordvec train`` uses when no corpus is named."""
    if not os.path.isfile(BUNDLED_CORPUS):
        raise WordvecError(f"no corpus given and the bundled corpus {BUNDLED_CORPUS} is missing "
                           "(broken installation?): name a corpus file")
    return BUNDLED_CORPUS


def eval_data(name):
    """Path of the bundled evaluation dataset ``name`` (file stem, e.g. ``EN-SIMLEX-999``)."""
    path = os.path.join(DATA_DIR, name + ".txt")
    if not os.path.isfile(path):
        raise WordvecError(f"bundled dataset {path} is missing (broken installation?)")
    return path
