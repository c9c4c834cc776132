# bundle.py - joins the dashboard's JavaScript modules into one inline script for the HTML report
# (a page opened from file:// cannot import modules), without a build tool.
"""bundle(modules, entry) -> JavaScript text.

Each module runs in its own function scope, in dependency order; `import { a, b } from './x.js';`
becomes `const { a, b } = modules["x.js"];` and the names a module declares with `export` are what
its function returns. Our modules follow two rules that make this exact: imports are single-line
named imports of relative './name.js' paths, and exports are `export function|class|const|let NAME`
(or `export async function NAME`) declarations.
"""

import re

IMPORT = re.compile(r"^import\s*\{([^}]*)\}\s*from\s*'\./([\w.-]+\.js)';\s*$", re.M)
EXPORT = re.compile(r"^export\s+((?:async\s+)?(?:function\*?|class|const|let)\s+([A-Za-z_$][\w$]*))", re.M)


class BundleError(Exception):
    pass


def dependencies(text):
    return [match.group(2) for match in IMPORT.finditer(text)]


def order(modules, entry):
    """Module names, each after the modules it imports."""
    ordered, visiting = [], set()

    def visit(name):
        if name in ordered:
            return
        if name in visiting:
            raise BundleError("import cycle through %s" % name)
        if name not in modules:
            raise BundleError("module %s is imported but missing" % name)
        visiting.add(name)
        for dep in dependencies(modules[name]):
            visit(dep)
        visiting.discard(name)
        ordered.append(name)

    visit(entry)
    return ordered


def convert(name, text):
    exported = [match.group(2) for match in EXPORT.finditer(text)]

    def replace_import(match):
        names = ", ".join(part.strip() for part in match.group(1).split(",") if part.strip())
        return "const { %s } = modules[%r];" % (names, match.group(2))

    body = IMPORT.sub(replace_import, text)
    body = EXPORT.sub(lambda m: m.group(1), body)
    if re.search(r"^\s*(import|export)\b", body, re.M):
        raise BundleError("%s has an import or export this bundler does not understand" % name)
    return "modules[%r] = (function () {\n%s\nreturn { %s };\n})();\n" % (name, body, ", ".join(exported))


def bundle(modules, entry="main.js"):
    parts = ["'use strict';\nconst modules = {};\n"]
    for name in order(modules, entry):
        parts.append(convert(name, modules[name]))
    return "(function () {\n%s})();\n" % "".join(parts)
