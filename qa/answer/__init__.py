"""Answer: ranked passages -> a cited answer, or a clear "not in the documents".

assistant.py     the core every surface calls: ask, search, show, with a conversation's history
answering.py     the extractive answer: the sentence holding the reader's span, markers, refusal
quoting.py       that sentence and the short answer, exact against the document
overview.py      a question that names a document: its opening, or its passage on a topic
conversation.py  the turns so far, checked and bounded; each follow-up's standalone query
followups.py     the rules that rewrite a follow-up ("it", "and in 2018?") as a standalone query
questions.py     how an earlier question reads: its frame, its subject, what it asks for
llm.py, writing.py, checking.py  an optional LLM writes the answer; each sentence checked
evaluation.py    `qa eval`: this system and baselines side by side on a question file

May import: every earlier stage (qa.ingest, qa.models, qa.index, qa.search).
"""
