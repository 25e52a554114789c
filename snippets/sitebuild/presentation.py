"""What a page looks like around its math and figures: numbers, references, plain titles.

* Figures and equations are numbered in page order, and the prose refers to them with a link
  whose text is just the word: ``[Figure](#fig-sweep-plot)`` becomes "Figure 3",
  ``[Equation](#eq-chain)`` becomes "Equation (2)", also across pages.
* A display equation that the text refers back to carries ``\\label{eq-name}``; the build turns
  it into ``\\tag{n}`` (which KaTeX typesets) and an anchor before the equation.
* Titles, the table of contents, the browser's title bar and the search index cannot typeset
  TeX; :func:`plain_tex` writes the math in them as plain Unicode text.
* The search index also gets the American spelling of the site's British words, so that
  "initialization" finds the chapter on initialisation (:func:`spelling_variants`).
"""

from __future__ import annotations

import re

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "varepsilon": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ",
    "Theta": "Θ", "Lambda": "Λ", "Pi": "Π", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω",
}
_SYMBOLS = {
    "partial": "∂", "nabla": "∇", "cdot": "·", "times": "×", "le": "≤", "leq": "≤", "ge": "≥",
    "geq": "≥", "ne": "≠", "neq": "≠", "approx": "≈", "sim": "~", "to": "→", "infty": "∞",
    "ell": "ℓ", "prod": "∏", "sum": "∑", "in": "∈", "pm": "±", "ldots": "…", "dots": "…",
    "cdots": "⋯", "lvert": "|", "rvert": "|", "lVert": "‖", "rVert": "‖", "|": "‖",
    "top": "ᵀ", "odot": "⊙", "circ": "∘", "prime": "′", "mid": "|", "langle": "⟨",
    "rangle": "⟩", "quad": " ", "qquad": " ", "colon": ":", "setminus": "∖",
}
_DROP = {"left", "right", "big", "Big", "bigl", "bigr", "Bigl", "Bigr", "displaystyle",
         "textstyle", "limits", "nolimits"}
_FONTS = {"mathrm", "mathbf", "mathit", "text", "textrm", "operatorname", "boldsymbol",
          "mathsf", "mathtt", "textit", "textbf", "mathcal", "mathbb", "hat", "bar", "tilde",
          "vec", "widehat", "overline"}
_CALLIGRAPHIC = {"L": "ℒ", "N": "𝒩", "O": "𝒪", "R": "ℛ", "F": "ℱ"}
_SUB = str.maketrans("0123456789+-=()aeijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ")
_SUP = str.maketrans("0123456789+-=()inT", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁱⁿᵀ")
_MATH = re.compile(r"\\\((.+?)\\\)|\\\[(.+?)\\\]|\$\$(.+?)\$\$|(?<![\\$])\$([^$\n]+?)\$", re.S)


def _group(tex: str, start: int) -> tuple[str, int]:
    """The argument at ``start``: a {braced group} or one character; and where it ends."""
    if start < len(tex) and tex[start] == "{":
        depth = 0
        for end in range(start, len(tex)):
            depth += {"{": 1, "}": -1}.get(tex[end], 0)
            if depth == 0:
                return tex[start + 1:end], end + 1
        return tex[start + 1:], len(tex)
    if start < len(tex) and tex[start] == "\\":
        match = re.match(r"\\([A-Za-z]+|.)", tex[start:])
        return match[0], start + len(match[0])
    return tex[start:start + 1], start + 1


def _script(text: str, table: dict, mark: str) -> str:
    converted = text.translate(table)
    if converted and all(ord(c) in table.values() for c in converted):
        return converted
    return f"{mark}({text})" if len(text) > 1 else f"{mark}{text}"


def _atom(text: str) -> str:
    return text if re.fullmatch(r"[\w′']+", text) else f"({text})"


def tex_to_text(tex: str) -> str:
    r"""One TeX math expression as plain Unicode text, for places that cannot typeset it.

    >>> tex_to_text(r"I + J")
    'I + J'
    >>> tex_to_text(r"g'")
    "g'"
    >>> tex_to_text(r"\partial(\alpha_N \cdots \alpha_1)/\partial x")
    '∂(α_N ⋯ α₁)/∂x'
    >>> tex_to_text(r"\frac{d\sigma}{dx} = \sigma(x)\,\sigma(-x)")
    'dσ/dx = σ(x) σ(−x)'
    >>> tex_to_text(r"W_l^\top \delta_{l+1}"), tex_to_text(r"\sqrt{1 + s^2}")
    ('W_lᵀ δₗ₊₁', '√(1 + s²)')
    >>> tex_to_text(r"\mathcal{L}(\theta) \le 10^{-3}")
    'ℒ(θ) ≤ 10⁻³'
    """
    out, i = [], 0
    while i < len(tex):
        c = tex[i]
        if c == "\\":
            name, i = _group(tex, i)
            name = name[1:]
            if name in {"partial", "nabla"}:  # written against what they act on: ∂x
                while i < len(tex) and tex[i] == " ":
                    i += 1
            if name in _GREEK:
                out.append(_GREEK[name])
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            elif name in _DROP:
                pass
            elif name in {",", ";", ":", "!", " "}:
                out.append(" " if name != "!" else "")
            elif name in {"frac", "tfrac", "dfrac"}:
                top, i = _group(tex, i)
                bottom, i = _group(tex, i)
                out.append(f"{_atom(tex_to_text(top))}/{_atom(tex_to_text(bottom))}")
            elif name == "sqrt":
                body, i = _group(tex, i)
                body = tex_to_text(body)
                out.append(f"√{body}" if re.fullmatch(r"\w+", body) else f"√({body})")
            elif name == "mathcal":
                body, i = _group(tex, i)
                out.append(_CALLIGRAPHIC.get(body, body))
            elif name in _FONTS:
                body, i = _group(tex, i)
                out.append(tex_to_text(body))
            elif name in {"{", "}", "_", "%", "&", "#", "$"}:
                out.append(name)
            else:
                out.append(name)
        elif c in "_^":
            body, i = _group(tex, i + 1)
            body = tex_to_text(body)
            if body == "ᵀ":
                out.append("ᵀ")
            elif c == "^":
                out.append(_script(body.replace("−", "-"), _SUP, "^"))
            else:
                translated = body.replace("−", "-").translate(_SUB)
                simple = len(body) == 1 and not body.isdigit() and body not in "+-=()"
                out.append(f"_{body}" if simple or translated == body
                           else _script(body.replace("−", "-"), _SUB, "_"))
        elif c in "{}":
            i += 1
        elif c == "-":
            out.append("−")
            i += 1
        elif c == "~":
            out.append(" ")
            i += 1
        else:
            out.append(c)
            i += 1
    return re.sub(r" {2,}", " ", "".join(out)).strip()


def plain_tex(text: str) -> str:
    r"""``text`` with every math expression in it (``\( \)``, ``\[ \]``, ``$$ $$``, and a
    notebook's ``$ $``) written as plain text (:func:`tex_to_text`).

    >>> plain_tex(r"The exact gradient of \(I + J\), and of \(g'\)")
    "The exact gradient of I + J, and of g'"
    >>> plain_tex(r"Note 000: $\partial(\alpha_N + \alpha_{N-2})$")
    'Note 000: ∂(α_N + α_(N-2))'
    """
    return _MATH.sub(lambda m: tex_to_text(next(g for g in m.groups() if g is not None)), text)


# Numbered equations -----------------------------------------------------------------------

_LABEL = re.compile(r"\\label\{(eq-[a-z0-9-]+)\}")
_DISPLAY = re.compile(r"^(?P<indent>[ \t]*)\$\$\n(?P<body>.*?)\n(?P=indent)\$\$[ \t]*$",
                      re.S | re.M)


def number_equations(markdown: str) -> tuple[str, dict[str, int]]:
    r"""Give each display equation with ``\label{eq-name}`` a number: ``\tag{n}`` inside it and
    an anchor ``#eq-name`` before it. Returns the Markdown and {anchor: number}.

    >>> md, numbers = number_equations("Text.\n\n$$\na = b \\label{eq-ab}\n$$\n")
    >>> numbers
    {'eq-ab': 1}
    >>> print(md)
    Text.
    <BLANKLINE>
    <span class="bp-eq-anchor" id="eq-ab"></span>
    <BLANKLINE>
    $$
    a = b \tag{1}
    $$
    <BLANKLINE>
    """
    numbers: dict[str, int] = {}

    def number(match: re.Match) -> str:
        label = _LABEL.search(match["body"])
        if not label:
            return match[0]
        numbers[label[1]] = len(numbers) + 1
        body = _LABEL.sub(rf"\\tag{{{numbers[label[1]]}}}", match["body"], count=1)
        indent = match["indent"]
        return (f'{indent}<span class="bp-eq-anchor" id="{label[1]}"></span>\n\n'
                f"{indent}$$\n{body}\n{indent}$$")

    return _DISPLAY.sub(number, markdown), numbers


_REFERENCE = re.compile(r'<a href="(?P<href>[^"]*?)#(?P<anchor>(?:fig|eq)-[\w-]+)"'
                        r'(?P<attrs>[^>]*)>(?P<text>Figure|Equation|figure|equation)</a>')


def number_references(html: str, lookup) -> tuple[str, list[str]]:
    """Write the number into every link whose text is only "Figure" or "Equation" and whose
    target is a figure (``#fig-``) or an equation (``#eq-``). ``lookup(href, anchor)`` gives
    the number, or None when the target does not exist; those are returned as missing.

    >>> number_references('See <a href="#fig-a">Figure</a> and <a href="x/#eq-b">Equation</a>.',
    ...                   lambda href, anchor: {"fig-a": 2, "eq-b": 5}.get(anchor))
    ('See <a href="#fig-a">Figure 2</a> and <a href="x/#eq-b">Equation (5)</a>.', [])
    """
    missing = []

    def number(match: re.Match) -> str:
        n = lookup(match["href"], match["anchor"])
        if n is None:
            missing.append(f"{match['href']}#{match['anchor']}")
            return match[0]
        text = f"{match['text']} {n}" if match["anchor"].startswith("fig-") \
            else f"{match['text']} ({n})"
        return f'<a href="{match["href"]}#{match["anchor"]}"{match["attrs"]}>{text}</a>'

    return _REFERENCE.sub(number, html), missing


# Spelling ---------------------------------------------------------------------------------

_VARIANTS = [
    (re.compile(r"\b(initiali|normali|optimi|regulari|generali|lineari|parameteri|minimi|"
                r"maximi|standardi|visuali|characteri|summari|organi|recogni)s(\w*)", re.I),
     "z"),
    (re.compile(r"\b(behavio|colo|neighbo)u(r\w*)", re.I), "or"),
    (re.compile(r"\b(cent)re(s?)\b", re.I), "er"),
    (re.compile(r"\b(model|label)ling\b", re.I), "ing"),
]


def spelling_variants(text: str) -> list[str]:
    """The American spellings of the British words in ``text``, once each, in order.

    >>> spelling_variants("Initialisation, normalised and the neighbouring colours.")
    ['Initialization', 'normalized', 'neighboring', 'colors']
    """
    found: list[str] = []
    for pattern, us in _VARIANTS:
        for match in pattern.finditer(text):
            if us == "z":
                word = f"{match[1]}z{match[2]}"
            elif us == "or":
                word = f"{match[1]}{match[2]}"
            elif us == "er":
                word = f"{match[1]}er{match[2]}"
            else:
                word = f"{match[1]}ing"
            if word not in found:
                found.append(word)
    order = {w: text.find(w.replace("z", "s", 1)) for w in found}
    return sorted(found, key=lambda w: order[w] if order[w] >= 0 else len(text))
