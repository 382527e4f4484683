"""livermets-explainer: a rule-based, cited explainer of treatment options for liver metastases."""
