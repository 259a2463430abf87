"""blogsvc: a blog microservice (users and their articles) over HTTP."""

__version__ = "0.1.0"
