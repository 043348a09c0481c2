"""The offline judge: a model trained on labelled tasks (data/) that rates a task on a rubric the
way a careful reader does, from the task's MiniLM sentence embedding and counted text features.
`make train-judge` rebuilds its weights (weights.json); `make calibrate` evaluates it on the
held-out split it never trained on."""
