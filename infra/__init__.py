"""What `chalice package --merge-template` adds to the deployment template."""
