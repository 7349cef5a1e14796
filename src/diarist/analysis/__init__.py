"""Analysis of entries, privately and offline by default: sentiment, emotions, keywords,
embeddings; run by the job worker."""
