"""The running kernel as the model needs it: its version, its zsmalloc chain size, zswap's pool
limit."""
import os

from analysis.capacity import model as cm

def zswap_param(name, default):
    try:
        with open(f"/sys/module/zswap/parameters/{name}") as f:
            return float(f.read().strip())
    except (OSError, ValueError):
        return default


def pool_limit(host_memory, percent, rows):
    """zswap's pool limit on the sampled host, and the zswap rows whose pool would exceed it."""
    percent = percent if percent is not None else zswap_param("max_pool_percent", 20.0)
    out = {"percent": percent, "accept_threshold_percent": zswap_param("accept_threshold_percent", 90.0),
           "host_memory_bytes": host_memory, "limit_bytes": None, "over": []}
    if host_memory:
        out["limit_bytes"] = host_memory * percent / 100
        out["over"] = [f"{r['compressor']}/{r['allocator']}" for r in rows
                       if r["backend"] == "zswap" and r["estimate"]["pool_bytes"] > out["limit_bytes"]]
    return out


def running_version():
    return cm.parse_version(os.uname().release)


def running_chain_size():
    """CONFIG_ZSMALLOC_CHAIN_SIZE of the running kernel, or None when its config is not readable."""
    import gzip
    release = os.uname().release
    for path, opener in (("/proc/config.gz", gzip.open), (f"/boot/config-{release}", open)):
        try:
            with opener(path, "rt") as f:
                for line in f:
                    if line.startswith("CONFIG_ZSMALLOC_CHAIN_SIZE="):
                        return int(line.split("=", 1)[1])
        except (OSError, ValueError):
            continue
    return None
