# The worker image of docker-compose.yml: this project installed with pip, running `python -m worker` (the worker
# of `make run`). PYTHON_VERSION is pinned in .env; the default here is for a plain `docker build .`.
ARG PYTHON_VERSION=3.11
FROM python:${PYTHON_VERSION}-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# The dependencies first, so that a change to the code alone does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt
COPY . .
RUN pip install --no-deps . \
    && useradd --system --uid 10001 --home-dir /app ccm
USER ccm

# `msp` is installed too (`docker compose exec worker msp status`); its cycle configuration is the one copied here.
ENV CCM_CONFIG=/app/config/cycle.toml
CMD ["python", "-m", "worker"]
