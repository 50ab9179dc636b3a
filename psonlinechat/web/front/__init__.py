"""The storefront widget's server side: its state, strings and availability."""
