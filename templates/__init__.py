"""The shipped report template, installed as ``notion_feedback.templates`` and read with ``importlib.resources``.

This file holds no code; it exists because setuptools' editable install cannot import a namespace package
(a folder without ``__init__.py``) that ``package-dir`` maps outside its parent package's folder, so without it
``importlib.resources.files("notion_feedback.templates")`` fails in a development checkout while working in a wheel.
"""
