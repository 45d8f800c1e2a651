"""Code that runs in Lambda: the API surfaces and the domain logic below them."""
