"""Reading Chinese: normalisation, segmentation and synonyms, aspects, typos, places, personal data, courtesy,
and `understand(text, vocabulary) -> ParsedQuery`, the one reading of a citizen's turn that everything above
uses. The bottom layer: it imports nothing of the project but the data files in `knowledge/lexicon/`."""
