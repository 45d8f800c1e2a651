"""The Chalice app: wiring only. Each API surface is a blueprint under chalicelib/."""
from chalice import Chalice

from chalicelib.admin_api import admin_api
from chalicelib.middleware import handle_request
from chalicelib.vast_api import vast_api

app = Chalice(app_name="gpu-control-plane")
app.register_blueprint(vast_api)
app.register_blueprint(admin_api)
app.register_middleware(handle_request, "http")
