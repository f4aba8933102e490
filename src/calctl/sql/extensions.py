"""Objects well-known extensions provide, so a use of one depends on its CREATE EXTENSION.

Only names (functions and types, lower case). An extension not listed here
provides an unknown set: while a directory creates one, a function or type no
file provides is assumed to come from it rather than reported missing.
"""

from __future__ import annotations

EXTENSION_OBJECTS: dict[str, frozenset[str]] = {
    "uuid-ossp": frozenset({"uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v3",
                            "uuid_generate_v4", "uuid_generate_v5", "uuid_nil", "uuid_ns_dns",
                            "uuid_ns_url", "uuid_ns_oid", "uuid_ns_x500"}),
    "pgcrypto": frozenset({"gen_random_bytes", "crypt", "gen_salt", "digest", "hmac",
                           "pgp_sym_encrypt", "pgp_sym_decrypt", "pgp_pub_encrypt",
                           "pgp_pub_decrypt", "armor", "dearmor", "encrypt", "decrypt",
                           "encrypt_iv", "decrypt_iv"}),
    "pg_trgm": frozenset({"similarity", "word_similarity", "strict_word_similarity",
                          "show_trgm", "set_limit", "show_limit", "gin_trgm_ops",
                          "gist_trgm_ops"}),
    "citext": frozenset({"citext"}),
    "hstore": frozenset({"hstore", "akeys", "avals", "skeys", "svals", "hstore_to_json",
                         "each", "exist", "defined", "delete", "slice"}),
    "ltree": frozenset({"ltree", "lquery", "ltxtquery", "subltree", "subpath", "nlevel",
                        "index", "text2ltree", "ltree2text", "lca"}),
    "vector": frozenset({"vector", "halfvec", "sparsevec", "cosine_distance", "l2_distance",
                         "inner_product", "l1_distance", "vector_dims", "vector_norm",
                         "l2_normalize", "binary_quantize", "subvector"}),
    "postgis": frozenset({"geometry", "geography", "box2d", "box3d", "spatial_ref_sys",
                          "geometry_columns", "geography_columns"}),
    "pg_stat_statements": frozenset({"pg_stat_statements", "pg_stat_statements_reset"}),
    "unaccent": frozenset({"unaccent"}),
    "fuzzystrmatch": frozenset({"levenshtein", "soundex", "difference", "metaphone",
                                "dmetaphone", "levenshtein_less_equal"}),
    "tablefunc": frozenset({"crosstab", "normal_rand", "connectby"}),
    "intarray": frozenset({"idx", "sort", "sort_asc", "sort_desc", "uniq", "subarray",
                           "intset", "icount"}),
    "cube": frozenset({"cube"}),
    "earthdistance": frozenset({"earth", "ll_to_earth", "earth_distance", "earth_box"}),
    "timescaledb": frozenset({"create_hypertable", "time_bucket", "add_retention_policy",
                              "add_compression_policy"}),
}


def extension_of(name: str) -> str | None:
    """The well-known extension that provides the bare name ``name``, if any."""
    if name.startswith("st_"):
        return "postgis"
    for extension, names in EXTENSION_OBJECTS.items():
        if name in names:
            return extension
    return None
