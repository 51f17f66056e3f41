"""Local Sphinx extension of the dlt book (loaded through `local_extensions` in _config.yml).

sphinx-thebe 0.3.1 adds its inline configuration script (``const THEBE_JS_URL = ...``) once per
`env-before-read-docs` event, and Jupyter Book emits that event twice, so every page declared the
constant twice and the browser reported "Identifier 'THEBE_JS_URL' has already been declared".
This drops repeated identical inline scripts from each page.
"""


def _dedupe_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for js in scripts:
        body = getattr(js, "attributes", {}).get("body") if not getattr(js, "filename", None) else None
        key = ("inline", body) if body else ("file", str(js))
        if body and key in seen:
            continue
        seen.add(key)
        kept.append(js)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
