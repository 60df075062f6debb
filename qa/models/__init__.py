"""Models: the embedder and the reader, run on onnxruntime, and their weights.

embedding.py       sentence-transformers, loaded from an installed package with the hub offline
onnx_embedding.py  the same encoder exported to ONNX (int8) for queries, and the build's encoder
reading.py         the learned reader: P(a passage answers a question) and the answer's span
reader/            the reader's weights (int8 ONNX), tokenizer and calibration
name_pairs.py      P(two names name the same thing) from their vectors (training/name_pairs.py;
                   not yet weighed by the refusal: a metonym against a swap)
names/             its weights

May import: qa.errors, qa.settings, qa.ingest.
"""
