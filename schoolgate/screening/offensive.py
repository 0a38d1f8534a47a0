"""The shipped offensive-language model (a linear model over words and character n-grams) and the text
normalisation it reads with. The curated phrase lists, by kind of harm, are in harms.py."""

from __future__ import annotations

import functools
import json
import math
import re
import unicodedata
import zlib
from dataclasses import dataclass, field
from pathlib import Path

MODEL_PATH = Path(__file__).with_name("offensive_model.json")

URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
ENTITY = re.compile(r"&(?:amp|lt|gt|quot|#\d+);")
# A word may hold the digits and symbols that stand for letters ("sh1t", "$hit", "sh!t", "f_ck").
_WORD_OR_MASKED = re.compile(r"[a-z0-9'$@_!]+")
# Three or more of one letter or symbol ("fuuuck", "sooo", "!!!") become one; digits are left ("2000").
REPEAT = re.compile(r"([^\d\s])\1{2,}")
# Common character swaps used to get past filters, applied to words that are not all letters.
LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"})
# Zero-width and invisible characters that split a word for a filter but not for a reader.
INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u2060\ufeff"), None)
# Emoji that stand for a rude word; most emoji carry no offence and are left to become spaces.
EMOJI_WORDS = str.maketrans(
    {
        "\U0001f595": " fuck ",
        "\U0001f4a9": " shit ",
        "\U0001f92c": " fucking ",
        "\U0001f52a": " knife ",
        "\U0001f52b": " gun ",
    }
)
# Letters spelt out one by one ("f u c k", "s.h.i.t", "f-u-c-k"): four or more single letters, joined.
# Three ("u r a", "k y s") are left alone: too many ordinary phrases look like that.
_SPELT_OUT = re.compile(r"(?<![a-z0-9])(?:[a-z][ .*_-]){3,}[a-z](?![a-z0-9])")
# "f*ck", "f#ck": a symbol standing for a letter nobody can read ("sh!t", "c@nt" are read by LEET).
_MASKED = re.compile(r"(?<=[a-z])[*#](?=[a-z])")
# Real names of places, people and things that contain a word the model weighs (the Scunthorpe problem): the
# model reads them as one neutral word. Names whose rude part is not a word of its own (Scunthorpe, Penistone,
# Essex) need nothing: the model reads words, not substrings.
# (The phrase lists of harms.py blank the same names.)
NAMES_WITH_RUDE_WORDS = (
    r"dick van dyke|moby[ -]dick|dick (?:whittington|turpin|francis|king-smith)|philip k\.? dick"
    r"|plymouth hoe|hoe street|blue tits?|coal tits?|long-tailed tits?"  # not "great tits": ambiguous
    r"|twatt|shitterton|bitchfield|cockermouth|cockburnspath|lickey hills"
)
_NAMES = re.compile(rf"(?<![a-z])(?:{NAMES_WITH_RUDE_WORDS})(?![a-z])")


def normalise(text: str) -> str:
    """Lowercased text with invisible characters removed, look-alike letters folded and spelt-out words joined."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(INVISIBLE).translate(EMOJI_WORDS)
    text = text.lower()
    if "http" in text or "www." in text:
        text = URL.sub(" ", text)
    if "@" in text:
        text = _MENTION.sub(" ", text)
    if "&" in text:
        text = ENTITY.sub(" ", text)
    if REPEAT.search(text):
        # Shortening runs on the whole text gives the same words as per word (a run never crosses one).
        text = REPEAT.sub(r"\1", text)
    if _NAMES.search(text):
        text = _NAMES.sub(" placename ", text)
    if _SPELT_OUT.search(text):
        text = _SPELT_OUT.sub(lambda m: re.sub(r"[ .*_-]", "", m.group()), text)
    return text


def tokenize(text: str) -> list[str]:
    """Words of `normalise(text)`, with digits and symbols in words read as the letters they stand for."""
    text = normalise(text)
    if "*" in text or "#" in text:
        text = _MASKED.sub("_", text)  # "f_ck" stays one word, so a masked swear word is still one feature
    words = []
    for word in _WORD_OR_MASKED.findall(text):
        if not word.isalpha():  # the fast path skips the rare words with digits, symbols or apostrophes
            word = word.strip("'_!")
            if not word:
                continue
            if not word.isdigit():
                word = word.translate(LEET)
        if word != "rt":
            words.append(word)
    return words


def features(text: str) -> list[str]:
    """Word unigrams and bigrams: the same function builds the training matrix and scores at run time."""
    words = tokenize(text)
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


@dataclass(frozen=True)
class OffensiveModel:
    """Logistic regression weights over `features()`; scoring is a dictionary sum, no numpy needed."""

    weights: dict[str, float]
    bias: float
    threshold: float
    meta: dict

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> OffensiveModel | HashedOffensiveModel:
        return load_model(path)

    @property
    def name(self) -> str:
        return f"{self.meta.get('name', 'offensive-words-davidson')} {self.meta.get('version', '1')}"

    def score(self, text: str) -> float:
        get = self.weights.get
        z = self.bias + sum(get(feature, 0.0) for feature in set(features(text)))
        return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0

    def strongest_word(self, text: str) -> tuple[int, int] | None:
        """The span of the word that pushes the score up most, so reviewers see where the problem is."""
        best, best_weight = None, 0.0
        for match in re.finditer(r"[\w'@$*]+", text):
            weight = sum(self.weights.get(word, 0.0) for word in tokenize(match.group()))
            if weight > best_weight:
                best, best_weight = (match.start(), match.end()), weight
        return best


# The hashed model: character 2-5-grams inside each word plus word unigrams and bigrams, hashed into
# 2**HASH_BITS buckets with CRC-32 (stable across processes and platforms, unlike hash()).
HASH_BITS = 18
_MASK = (1 << HASH_BITS) - 1
# Scoring a 100 KB text word by word would take a second; the model reads this many words, the word lists all.
MAX_WORDS = 2_000


@functools.lru_cache(maxsize=200_000)
def _word_buckets(word: str) -> tuple[int, ...]:
    padded = f" {word} "
    grams = {padded[i : i + n] for n in (2, 3, 4, 5) for i in range(len(padded) - n + 1)}
    grams.add("w:" + word)
    return tuple(zlib.crc32(gram.encode()) & _MASK for gram in grams)


def hashed_features(text: str) -> list[int]:
    """The bucket numbers present in `text` (each once): the same function builds training rows and scores."""
    return _buckets(tokenize(text)[:MAX_WORDS])


def _buckets(words: list[str]) -> list[int]:
    buckets: set[int] = set()
    for word in words:
        buckets.update(_word_buckets(word))
    for a, b in zip(words, words[1:], strict=False):
        buckets.add(zlib.crc32(f"w:{a} {b}".encode()) & _MASK)
    return sorted(buckets)


# A long comment is scored in overlapping windows of this many words and counts as its worst window: one abusive
# sentence in a long, calm comment is still abuse, and L2 normalisation would otherwise dilute it away.
WINDOW_WORDS = 40


@dataclass(frozen=True)
class HashedOffensiveModel:
    """Logistic regression over `hashed_features()`, binary and L2-normalised; the weights are a numpy array."""

    weights: object  # numpy.ndarray of float32, 2**HASH_BITS long
    bias: float
    threshold: float
    meta: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"{self.meta.get('name', 'offensive')} {self.meta.get('version', '?')}"

    def decision(self, text: str) -> float:
        words = tokenize(text)[:MAX_WORDS]
        if len(words) <= WINDOW_WORDS:
            return self._decision(_buckets(words))
        step = WINDOW_WORDS // 2
        starts = range(0, len(words) - step, step)
        return max(self._decision(_buckets(words[start : start + WINDOW_WORDS])) for start in starts)

    def _decision(self, buckets: list[int]) -> float:
        if not buckets:
            return self.bias
        return self.bias + float(self.weights[buckets].sum()) / math.sqrt(len(buckets))

    def score(self, text: str) -> float:
        z = self.decision(text)
        return 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0

    def strongest_word(self, text: str) -> tuple[int, int] | None:
        """The span of the word whose own features weigh most, so reviewers see where the problem is."""
        best, best_weight = None, 0.0
        for match in re.finditer(r"[\w'@$*]+", text[:100_000]):
            buckets = [b for word in tokenize(match.group()) for b in _word_buckets(word)]
            weight = float(self.weights[buckets].sum()) if buckets else 0.0
            if weight > best_weight:
                best, best_weight = (match.start(), match.end()), weight
        return best


def load_model(path: Path = MODEL_PATH) -> OffensiveModel | HashedOffensiveModel:
    """The model described by the JSON file at `path`: word weights inline, or hashed weights in a .npy beside it."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != "hashed-ngrams":
        return OffensiveModel(data["weights"], data["bias"], data["threshold"], data.get("meta", {}))
    import numpy  # numpy arrives with the product's dependencies (ai-edge-litert); imported only for this model

    weights = numpy.load(path.with_name(data["weights_file"]), allow_pickle=False).astype(numpy.float32)
    if weights.shape != (1 << data["hash_bits"],) or data["hash_bits"] != HASH_BITS:
        raise ValueError(f"{path.name}: weights do not match HASH_BITS={HASH_BITS}")
    return HashedOffensiveModel(weights, data["bias"], data["threshold"], data.get("meta", {}))


@functools.cache
def shipped_model() -> OffensiveModel | HashedOffensiveModel:
    return load_model()
