# The worker and the API share one image; docker-compose.yml picks the command.
# The latest 3.11 patch in docker-library's official-images record (library/python).
FROM python:3.11.14-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

COPY pyproject.toml README.md requirements.lock ./
COPY domain ./domain
COPY workflows ./workflows
COPY activities ./activities
COPY cases ./cases
COPY api ./api
COPY commands ./commands
COPY infra ./infra
COPY simulation ./simulation
COPY interop ./interop
COPY migrations ./migrations
COPY cli.py worker.py ./
# Bytecode ahead of time: workers compile workflow code for every sandboxed run otherwise.
RUN pip install --require-hashes -r requirements.lock && pip install --no-deps -e . \
    && python -m compileall -q domain workflows activities infra api commands simulation interop \
    && useradd --system --uid 10001 priorauth
USER priorauth

CMD ["python", "worker.py"]
