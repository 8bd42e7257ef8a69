from mustache.cli import app

app(prog_name="mustache")
