"""Capacity's files: the sampler's pages file and a prediction, each checked for its kind and
schema version, and the stratified design's weights."""
import json

import numpy as np

from analysis.errors import ResultError

SCHEMA_VERSION = 1


def load_capacity(path, kind, accepted):
    """A capacity file of this kind and schema version, or ResultError naming path."""
    try:
        with open(path) as f:
            doc = json.load(f)
    except OSError as e:
        raise ResultError(f"{path}: {e.strerror}; accepted: {accepted}") from None
    except json.JSONDecodeError as e:
        raise ResultError(f"{path}: not JSON ({e.msg} at line {e.lineno}); accepted: {accepted}") from None
    head = doc.get("swapbench_capacity") if isinstance(doc, dict) else None
    if not isinstance(head, dict) or head.get("kind") != kind:
        raise ResultError(f"{path}: no swapbench_capacity block of kind '{kind}'; accepted: {accepted}")
    if head.get("schema_version") != SCHEMA_VERSION:
        raise ResultError(f"{path}: schema_version {head.get('schema_version')!r}; accepted: {SCHEMA_VERSION}")
    return doc


def load_pages(path):
    return checked_pages(load_capacity(path, "pages", "swapbench-capacity output (a pages file)"), path)


def checked_pages(doc, path):
    pages = doc.get("pages", {})
    n = pages.get("count")
    if not isinstance(n, int) or len(pages.get("class", [])) != n or len(pages.get("stratum", [])) != n or \
            any(len(v) != n for v in pages.get("length", {}).values()):
        raise ResultError(f"{path}: pages arrays disagree with pages.count; the file is damaged")
    return doc


def load_prediction(path):
    return load_capacity(path, "prediction", "a ./swapbench capacity --json file")


def weights_of(doc):
    """Per page: how many pages of its source it stands for (N_h / n_h)."""
    strata = np.asarray(doc["pages"]["stratum"], dtype=np.int64)
    w = np.zeros(len(strata))
    for h, src in enumerate(doc["sources"]):
        mask = strata == h
        got = int(mask.sum())
        if got:
            w[mask] = src["population_pages"] / got
    return strata, w
