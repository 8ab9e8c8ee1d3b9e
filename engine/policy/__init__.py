"""Policies: loading YAML with locations, schema, fact dictionary, the compiled model, the compiler,
the national catalogue, band checks and the registry of editions."""
from .compiler import compile_bundle, compile_policy, content_hash, make_bundle
from .facts import FactDictionary, build_dictionary, load_dictionary
from .loader import Document, load_file, load_text
from .model import Band, Condition, EligibilityRule, Figure, Policy, Reference, Rule
from .registry import Registry, find_root

__all__ = ["Band", "Condition", "Document", "EligibilityRule", "FactDictionary", "Figure", "Policy", "Reference",
           "Registry", "Rule", "build_dictionary", "compile_bundle", "compile_policy", "content_hash",
           "find_root", "load_dictionary", "load_file", "load_text", "make_bundle"]
