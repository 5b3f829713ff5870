"""The demo export: Korean VOC tickets with planted changes, for trying the product."""
