"""All I/O of the engine (HTTP with httpx). The presidential cycle needs none yet; later workflows add theirs."""
