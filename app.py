"""The Chalice app: wiring only. Each API surface is a blueprint under chalicelib/."""
from chalice import Chalice, Rate

from chalicelib.scaling import scheduler
from chalicelib.surfaces.admin.routes import admin_api
from chalicelib.surfaces.clearml.routes import clearml_api
from chalicelib.surfaces.dashboard.routes import dashboard
from chalicelib.surfaces.middleware import handle_request
from chalicelib.surfaces.mlbench.routes import mlbench_api
from chalicelib.surfaces.unrouted import unrouted
from chalicelib.surfaces.vast.routes import vast_api

app = Chalice(app_name="gpu-control-plane")
app.register_blueprint(vast_api)
app.register_blueprint(admin_api)
app.register_blueprint(clearml_api)
app.register_blueprint(mlbench_api)
app.register_blueprint(dashboard)
app.register_blueprint(unrouted)  # last: every path the others do not route
app.register_middleware(handle_request, "http")


@app.schedule(Rate(1, unit=Rate.MINUTES))
def scale_fleet(event: object) -> dict:
    """Every minute: keep every worker group at the right size, a pass every PASS_INTERVAL_S."""
    return {"passes": [report.summary() for report in scheduler.run_schedule()]}


@app.lambda_function(name="scale_endpoint")
def scale_endpoint(event: dict, context: object) -> dict:
    """Invoked by /route/ when work queues: scale one endpoint's groups now (see scaling.wake)."""
    return scheduler.run_pass(endpoint=(int(event["account_id"]), int(event["endpoint_id"]))).summary()
