"""Golden cases of the reference models and the published data they are checked on."""
