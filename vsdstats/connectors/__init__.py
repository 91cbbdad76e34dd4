"""The plugin API: what a platform connector imports.

A plugin is a distribution with an entry point in the group ``vsdstats.platforms``
pointing at a module that implements the ``register_platforms`` hook (see
:mod:`vsdstats.connectors.hookspecs` and ``docs/writing-a-plugin.md``)::

    from vsdstats.connectors import JsonConnector, JsonFormat, connector_plugin

Modules: ``records`` (RawPost, Reject), ``base`` (Connector), ``jsonconnector``
(JsonConnector with its ``formats`` table of JsonFormat rows), ``hookspecs`` (hookimpl,
connector_plugin, dist_version), ``manager`` (entry points, broken
plugins), ``io`` (opening and decompressing sources), ``guarded`` (reading without
raising, format sniffing), ``readers`` (JSON, times, HTML), ``fields`` (reject reasons, counts),
``snscrape_live`` (live collection through snscrape), ``credentials`` (API keys for
live collection), ``scaffold`` (``new-plugin``).
"""

from vsdstats.connectors.base import Connector, Cursor, NotCollectable, RawSink
from vsdstats.connectors.credentials import CredentialError, credential
from vsdstats.connectors.fields import (
    CONVERT_ERRORS,
    check_format,
    convert_or_reason,
    count,
    not_an_object,
    require_str,
    some_keys,
    text_or_none,
)
from vsdstats.connectors.guarded import head_values, peek, read_guarded, unread
from vsdstats.connectors.hookspecs import (
    ENTRY_POINT_GROUP,
    PlatformSpec,
    connector_plugin,
    dist_version,
    hookimpl,
    hookspec,
)
from vsdstats.connectors.io import TruncatedInput, open_source, read_prefix
from vsdstats.connectors.jsonconnector import JsonConnector, JsonFile, JsonFormat, source_name
from vsdstats.connectors.manager import (
    BrokenPlugin,
    PluginError,
    PluginWarning,
    Registered,
    broken_plugins,
    connectors,
    get_connector,
    load_plugins,
)
from vsdstats.connectors.readers import (
    BOM,
    SNIFF_LINES,
    html_to_text,
    iter_json_lines,
    iter_json_values,
    json_records,
    load_json_document,
    loads,
    parse_time,
    read_json_records,
    replace_surrogates,
    scrub_surrogates,
    strip_bom,
    unescape_markdown,
)
from vsdstats.connectors.records import RawPost, Record, Reject, Source
from vsdstats.connectors.snscrape_live import snscrape_class, snscrape_records

__all__ = [
    "BOM",
    "CONVERT_ERRORS",
    "ENTRY_POINT_GROUP",
    "SNIFF_LINES",
    "BrokenPlugin",
    "Connector",
    "CredentialError",
    "Cursor",
    "JsonConnector",
    "JsonFile",
    "JsonFormat",
    "NotCollectable",
    "PlatformSpec",
    "PluginError",
    "PluginWarning",
    "RawPost",
    "RawSink",
    "Record",
    "Registered",
    "Reject",
    "Source",
    "TruncatedInput",
    "broken_plugins",
    "check_format",
    "connector_plugin",
    "connectors",
    "convert_or_reason",
    "count",
    "credential",
    "dist_version",
    "get_connector",
    "head_values",
    "hookimpl",
    "hookspec",
    "html_to_text",
    "iter_json_lines",
    "iter_json_values",
    "json_records",
    "load_json_document",
    "load_plugins",
    "loads",
    "not_an_object",
    "open_source",
    "parse_time",
    "peek",
    "read_guarded",
    "read_json_records",
    "read_prefix",
    "replace_surrogates",
    "require_str",
    "scrub_surrogates",
    "snscrape_class",
    "snscrape_records",
    "some_keys",
    "source_name",
    "strip_bom",
    "text_or_none",
    "unescape_markdown",
    "unread",
]
