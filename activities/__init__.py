"""All I/O of the engine: conference services and notifications over HTTP (httpx), and Temporal look-ups."""
