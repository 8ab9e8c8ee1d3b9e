import logging

logger = logging.getLogger(__name__)

# upstream release plus almp's local patch level (see VENDORED.md); PEP 440 local version label
__version__ = "2.0.28+almp.2"
