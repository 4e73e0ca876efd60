"""gunicorn config for ``bench/ingest.py``'s HTTP baseline: each worker,
once it has loaded the application, records telemetry with the service's
ORM bulk path (``_record_orm``: model instances, ``bulk_create``, a
duplicate look-up per type) instead of the PostgreSQL statements: the
previous approach, served by the same production server."""


def post_worker_init(worker) -> None:
    from chargepoints.services import batch

    batch._record_postgresql = batch._record_orm
