"""Small built-in pattern sets: letter bitmaps (Fig 2) and bipolar permutations (Table I)."""

from __future__ import annotations

import itertools

import torch

from ..errors import InvalidInputError
from ..validation import check_positive_int

__all__ = [
    "LETTERS_10x14",
    "LETTERS_9x12",
    "letter",
    "bipolar_cube",
    "TABLE_I_PERMUTATION",
    "permutation_pairs",
    "random_permutation",
]

# Fig 2 letters. X field: 10 wide x 14 tall (140 neurons); Y field: 9 x 12 (108 neurons).
LETTERS_10x14 = {
    "S": """
..######..
.########.
##......##
##........
##........
.##.......
..#####...
....#####.
.......##.
........##
........##
##......##
.########.
..######..""",
    "M": """
##......##
###....###
####..####
##.####.##
##..##..##
##......##
##......##
##......##
##......##
##......##
##......##
##......##
##......##
##......##""",
    "G": """
..######..
.########.
##......##
##........
##........
##........
##...#####
##...#####
##......##
##......##
##......##
##......##
.########.
..######..""",
}
LETTERS_9x12 = {
    "E": """
#########
#########
##.......
##.......
##.......
#######..
#######..
##.......
##.......
##.......
#########
#########""",
    "V": """
##.....##
##.....##
##.....##
##.....##
.##...##.
.##...##.
.##...##.
..##.##..
..##.##..
..##.##..
...###...
....#....""",
    "N": """
##.....##
###....##
####...##
##.#...##
##.##..##
##..#..##
##..##.##
##...#.##
##...####
##....###
##.....##
##.....##""",
}


def letter(name: str, font: dict, coding: str = "bipolar") -> torch.Tensor:
    """A letter bitmap as a flat row-major pattern ('#' on, '.' off)."""
    if name not in font:
        raise InvalidInputError(f"no bitmap for letter {name!r}; available: {sorted(font)}")
    rows = font[name].strip().splitlines()
    on = torch.tensor([[c == "#" for c in r] for r in rows], dtype=torch.float32)
    return (2 * on - 1 if coding == "bipolar" else on).flatten()


def bipolar_cube(n: int) -> torch.Tensor:
    """All 2^n bipolar n-vectors in lexicographic order (-1 < 1), shape (2^n, n)."""
    check_positive_int(n, "n", maximum=20)
    return torch.tensor(list(itertools.product([-1.0, 1.0], repeat=n)))


# Table I (Kosko 2021): y = x[TABLE_I_PERMUTATION] with x = bipolar_cube(4).
TABLE_I_PERMUTATION = (12, 14, 15, 13, 9, 5, 8, 4, 11, 7, 10, 6, 2, 0, 1, 3)


def permutation_pairs(perm) -> tuple[torch.Tensor, torch.Tensor]:
    """The pairs (X_k, Y_k = X_perm[k]) of a permutation of the bipolar n-cube."""
    perm = torch.as_tensor(perm, dtype=torch.long)
    size = perm.numel()
    n = size.bit_length() - 1
    if size < 2 or 2**n != size or not torch.equal(perm.sort().values, torch.arange(size)):
        raise InvalidInputError(f"perm must be a permutation of range(2**n), got {size} entries")
    X = bipolar_cube(n)
    return X, X[perm]


def random_permutation(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A uniformly random permutation of the 2^n vertices of the bipolar n-cube."""
    check_positive_int(n, "n", maximum=20)
    return torch.randperm(2**n, generator=generator)
