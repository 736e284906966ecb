"""Where a run's model trained and was scored, and the precision its trainer trained at:
read from the trainer and the trained model once trained, not guessed from the config
(``trainer.accelerator=auto`` trains on a GPU where there is one; Lightning may train at
another precision than ``trainer.precision`` names). The protocol card's ``device`` block
records them."""

from __future__ import annotations

from dataclasses import dataclass

import torch

#: The key under which :func:`tsbench.training.fit.train` hands the precision its trainer
#: trained at (Lightning's ``trainer.precision`` after fit) to the run: the card's, not a
#: metric.
PRECISION_KEY = "precision"


@dataclass(frozen=True)
class TrainedOn:
    """The ``device`` the model trained and was scored on, and the ``precision`` its
    trainer trained at; None for a model without training (the config's is the card's)."""

    device: torch.device
    precision: str | None = None
