#!/usr/bin/python3
"""Renders through graphite-web's render API without a web server: Django's test client calls the
view in this process, with graphite-web's settings pointed at a carbon storage directory.
usage: graphite_render.py STORAGE_DIR OUT FORMAT FROM TARGET...   (FORMAT json or png)
FORMAT "count": renders each target alone (json) and writes "N_SERIES N_POINTS<TAB>TARGET" lines,
N_POINTS the non-null points of all its series."""
import json
import os
import sys
import tempfile

storage, out, fmt, since = sys.argv[1:5]
targets = sys.argv[5:]
# A settings module of our own: graphite-web imports it over its defaults.
mod_dir = tempfile.mkdtemp(prefix="graphite-settings-", dir=storage)
with open(os.path.join(mod_dir, "render_settings.py"), "w") as f:
    f.write(
        "STORAGE_DIR = %r\nWHISPER_DIR = %r\nLOG_DIR = %r\nSECRET_KEY = 'test-only'\n"
        "ALLOWED_HOSTS = ['*']\nCARBONLINK_HOSTS = []\nTAGDB = None\nDEBUG = True\n"
        % (storage, os.path.join(storage, "whisper/"), os.path.join(storage, "log"))
    )
sys.path.insert(0, mod_dir)
os.environ["GRAPHITE_SETTINGS_MODULE"] = "render_settings"
os.environ["DJANGO_SETTINGS_MODULE"] = "graphite.settings"
import django  # noqa: E402

django.setup()
from django.test import Client  # noqa: E402


def render(tgts, form):
    params = [("target", t) for t in tgts] + [("from", since), ("format", form)]
    if form == "png":
        params += [("width", "800"), ("height", "400"), ("title", "collectd-container")]
    resp = Client().get("/render/", params)
    if resp.status_code != 200:
        sys.stderr.write("render answered %d: %s\n" % (resp.status_code, resp.content[:400]))
        return None
    return resp.content


if fmt == "count":
    with open(out, "w") as f:
        for t in targets:
            body = render([t], "json")
            series = json.loads(body) if body is not None else []
            points = sum(1 for s in series for p in s["datapoints"] if p[0] is not None)
            f.write("%d %d\t%s\n" % (len(series), points, t))
    sys.exit(0)
body = render(targets, fmt)
if body is None:
    sys.exit(1)
with open(out, "wb") as f:
    f.write(body)
