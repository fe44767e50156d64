"""Installs the tfgen library and the zoo of presets (with the `tfgen` console script).

The distribution is called ``tfgen-zoo``: ``tfgen`` and ``zoo`` on the public package index are
unrelated projects, so install from a checkout (``pip install ".[data]"``) or the repository URL,
never ``pip install tfgen``. The import names stay ``tfgen`` and ``zoo``.
"""

from setuptools import find_packages, setup

setup(
    name="tfgen-zoo",
    version="0.1.0",
    description="Generative models for TensorFlow/Keras 3 with TensorFlow Probability likelihoods.",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["tfgen", "tfgen.*", "zoo", "zoo.*"]),
    # the result records and the trained weights they were measured with (python -m zoo.reproduce)
    package_data={"zoo": ["results/*.json", "weights/*.weights.h5"]},
    install_requires=[
        "tensorflow==2.21.*",
        "keras>=3.10,<4",
        "tensorflow-probability==0.25.*",
        "tf-keras==2.21.*",
        "numpy",
        "pillow",
        "matplotlib",  # every run's curves.png
    ],
    extras_require={
        "test": [
            "pytest",
            "hypothesis",
            "import-linter>=2.1",
            "scikit-learn",
            "scipy",
            "nbclient",
            "nbformat",
            "ipykernel",
            "matplotlib",
        ],
        "viz": ["matplotlib", "tensorboard"],
        "gpu": ["tensorflow[and-cuda]==2.21.*"],
        "data": ["tensorflow-datasets", "importlib_resources"],
    },
    entry_points={"console_scripts": ["tfgen=zoo.cli:main"]},
)
