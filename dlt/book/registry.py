"""The registry of the book: every chapter, its part, its topic face, its lesson and its tests.

One table, kept here and nowhere else. What used to be listed by hand in five to seven places
is derived from it: the topic faces the layout test knows (``tests/test_layout.py``), the
README's chapter table and face list, the API page's topic sections (``book/api.md``), the
lessons' index, the table of contents' chapters and the titles ``dlt list`` prints. A test
(``tests/test_registry.py``) fails where a derived copy disagrees, and
``python tools/registry.py`` rewrites the derived blocks of the README and the API page.

A chapter still to be written is in the registry with ``written=False``: its face and slug
are reserved, and nothing is derived from it until it is written.
"""

from __future__ import annotations

from dataclasses import dataclass

from .faces import FACES, Face

__all__ = ["Chapter", "Face", "PARTS", "FACES", "CHAPTERS", "chapter", "written"]

#: The parts of the book, in order (the captions of ``_toc.yml``).
PARTS = (
    "Part I. The puzzle",
    "Part II. Infinite width",
    "Part III. Interpolation that generalizes",
    "Part IV. How optimization chooses a solution",
    "Part V. Transformers and in-context learning",
    "Part VI. Architectures, robustness, interpretability",
    "Part VII. Beyond the training distribution",
)


@dataclass(frozen=True)
class Chapter:
    """One chapter of the book.

    Examples
    --------
    >>> c = chapter(3)
    >>> c.slug, c.faces, c.lesson
    ('03_ntk', ('ntk', 'kernels'), True)
    """

    number: int
    slug: str
    title: str
    part: str
    faces: tuple[str, ...]
    summary: str
    lesson: bool = True
    tests: tuple[str, ...] = ()
    written: bool = True

    @property
    def label(self) -> str:
        """The chapter's MyST label (``ch:ntk`` for ``03_ntk``)."""
        return "ch:" + self.slug.split("_", 1)[1]


_I, _II, _III, _IV, _V, _VI, _VII = PARTS

CHAPTERS: tuple[Chapter, ...] = (
    Chapter(
        1,
        "01_generalization",
        "Generalization in the overparameterized regime",
        _I,
        (),
        "a wide MLP reaches 100% train accuracy on true, partly random and fully random labels; its test accuracy falls from near Bayes to chance as the labels are randomized; a narrow one cannot memorize",
        tests=("test_nets_data.py",),
    ),
    Chapter(
        2,
        "02_nngp",
        "Wide networks are Gaussian processes",
        _II,
        ("kernels",),
        "the output covariance of random ReLU networks is the arc-cosine NNGP kernel; non-Gaussianity fades like 1/width; Bayesian inference in a wide net is GP regression",
        tests=("test_kernels.py", "test_kernels_fused.py"),
    ),
    Chapter(
        3,
        "03_ntk",
        "The neural tangent kernel and lazy training",
        _II,
        ("ntk", "kernels"),
        "the empirical NTK converges to the analytic one like width^-1/2; the kernel stops moving during training as width grows; network, linearized network and closed-form kernel dynamics agree at large width",
        tests=("test_ntk.py", "test_ntk_structured.py"),
    ),
    Chapter(
        4,
        "04_lazy_rich",
        "Lazy versus rich: feature learning",
        _II,
        ("feature_learning",),
        "NTK features move like width^-1/2 and stay randomly aligned, muP features move by Θ(1), align with the single-index direction and cut the test loss over tenfold; the output scale α moves one network from lazy (movement ∝ 1/α) to rich; the standard parameterization's best learning rate falls like 1/width while muP's stays put; the coordinate check is flat for muP and catches a muP with an NTK-scaled readout",
        tests=("test_feature_learning.py", "test_parameterization.py"),
    ),
    Chapter(
        5,
        "05_double_descent",
        "Double descent",
        _III,
        ("interpolation",),
        "the min-norm interpolator's risk matches the closed form of Hastie et al. on both sides of p/n = 1, peaks at p = n, and optimally tuned ridge removes the peak; random ReLU features on a teacher peak at N = n",
        tests=("test_interpolation.py",),
    ),
    Chapter(
        6,
        "06_benign_overfitting",
        "Benign overfitting",
        _III,
        ("interpolation",),
        "effective ranks decide when interpolation is benign: risk falls with dimension for a two-scale spectrum, not for an isotropic one; two-layer ReLU CNNs fit noisy labels on an (n, SNR) grid, benign above and harmful below the boundary n‖μ‖⁴ ∝ d",
        tests=("test_benign_cnn.py", "test_interpolation.py"),
    ),
    Chapter(
        7,
        "07_measuring_generalization",
        "Measuring generalization",
        _III,
        ("generalization_measures",),
        "a PAC-Bayes-kl bound (Gaussian prior at the initialization, Monte Carlo correction, union over scale grids) certifies 0.42 to 0.44 for a 2,302-parameter network whose VC bound is 1.36; five complexity measures ranked against the generalization gap over 16 networks by Kendall's τ with the spread of unrelated rankings: the PAC-Bayes bound and flatness rank it, the spectral-norm product and the path norm do not; random labels push the bound to 0.98 while the network still interpolates",
        tests=("test_bounds.py", "test_complexity.py"),
    ),
    Chapter(
        8,
        "08_implicit_bias",
        "Implicit bias of optimizers",
        _IV,
        ("implicit_bias",),
        "on separable data GD heads for the ℓ2 max margin (the hard SVM, solved exactly) and sign descent and Adam (ε = 0) for the ℓ∞ one (a linear program); the direction error falls like 1/log t and the loss like 1/t; diagonal linear networks interpolate with the minimizer of Woodworth et al.'s potential, sparse only from a small initialization; a large Adam ε turns Adam back toward ℓ2",
        tests=("test_implicit_bias.py",),
    ),
    Chapter(
        9,
        "09_edge_of_stability",
        "Sharpness, stability and the edge of stability",
        _IV,
        ("curvature",),
        "sharpness by power iteration on Hessian-vector products, recorded by a `fit` callback; full-batch GD on a tanh net sharpens until λ_max meets 2/η and stays within 1% while the loss falls non-monotonically; a wide two-layer linear net catapults for 2 < ηλ₀ < 4 and diverges beyond a measured ηλ₀ ≈ 4.0; the exact mean-square threshold of batch-1 SGD sits below 2/tr H at every minimum, so SGD's minima have η tr H/2 < 1 while GD's do not",
        tests=("test_curvature.py",),
    ),
    Chapter(
        10,
        "10_critical_batch_size",
        "Batch size and the critical batch size",
        _IV,
        ("scaling",),
        "the exact expected risk of minibatch SGD on power-law linear regression matches Monte Carlo SGD; steps to 10%, 3% and 1% of the initial risk follow S_min(1 + B_crit/B) (rms log error under 0.07); B_crit grows 5 to 10 times from the loosest to the tightest target but under 2 times from d = 100 to 3000, and settles in d; the gradient-noise scales overshoot B_crit 6 to 140 times; a small ReLU network shows the same shape qualitatively",
        tests=("test_scaling.py",),
    ),
    Chapter(
        11,
        "11_grokking",
        "Grokking",
        _IV,
        ("grokking",),
        "a one-hidden-layer network on learned embeddings fits half of the table of (a + b) mod 31 by step 20 to 30 and reaches 95% test accuracy 25 to 75 times later (AdamW, weight decay 1; 20 runs, and 4 at SCALE = 2); 1000 steps after it generalizes, its embedding puts 0.59 to 0.92 of its power on 5 of the 15 Fourier frequencies against 0.38 to 0.45 without weight decay (20 runs); a lazier start (output scale 4 with lr/4) multiplies the delay by 1.8 to 2.1; without weight decay the test accuracy stays at 0 within the same budget",
        tests=("test_grokking.py",),
    ),
    Chapter(
        12,
        "12_icl_gd",
        "In-context learning as gradient descent",
        _V,
        ("icl",),
        (
            "one linear self-attention layer is exactly one gradient step; a trained "
            "one-layer LSA converges to the optimal preconditioned step (matrix and error); "
            'deeper LSA approaches least squares, and where "transformers do GD" stops being '
            "exact"
        ),
        tests=("test_icl.py",),
    ),
    Chapter(
        13,
        "13_icl_beyond",
        "Beyond one task: sparse regression, task superposition, in-context vs in-weights",
        _V,
        ("icl",),
        "a small softmax transformer trained on dense, sparse and sign prompts learns in context but, at `SCALE = 1`, does not yet beat least squares where the Lasso and the exact Bayes predictor do (the larger run is named, not yet verified); on prompts mixing two tasks its prediction weights each task's answer in proportion to its share; trained on four tasks instead of fresh ones, the same model answers from its weights and ignores the context on new tasks; shifting the task scale breaks it",
        tests=("test_icl.py",),
    ),
    # Parts VI and VII and the closing chapter: reserved, not yet written.
    Chapter(
        14,
        "14_robustness",
        "Robustness: width, depth and initialization",
        _VI,
        ("robustness",),
        "the expected input-gradient norm of random ReLU networks follows its closed form (depth-neutral under He, halving per layer under LeCun); FGSM moves a linear score by eps ||w||_1; on the 8x8 digits PGD breaks accurate networks, width helps at depth 2, and depth does not help under LeCun after Adam training; IBP bounds are sound, their tightness decays by (1/2) ln(pi/(2n)) per layer at initialization and IBP training makes them tight and certifies half of the test digits at eps = 0.1, at a price of 6 to 7 points of clean accuracy after 250 steps (2 after 500)",
        tests=("test_robustness.py",),
    ),
    Chapter(
        15,
        "15_polynomial",
        "Polynomial networks",
        _VI,
        ("polynomial",),
        "a CCP of degree 4 learns a random degree-4 polynomial in d = 3 to a relative test error below 1e-6, the degree-3 CCP stops at the best degree-3 polynomial computed by least squares, and a ReLU network with five times the parameters is 1e5 to 1e7 times worse; finite differences of order N + 1 of trained and untrained CCPs vanish to rounding in float64; on the digits a CCP without activations is as accurate as a ReLU network of similar size (98%); at initialization its output grows with the degree as q (1 + q)^(N-1)",
        tests=("test_polynomial.py",),
    ),
    Chapter(
        16,
        "16_white_box",
        "White-box transformers: rate reduction",
        _VI,
        ("white_box",),
        "two classes on 2-dimensional subspaces of R^8: the rate reduction grows strictly with their principal angle (0.001 at 0 to 1.56 at 90 degrees) and is zero to rounding for identical classes; the exact gradient of the compression term R^c equals autograd to 5e-16; the first-order (Neumann) compression step errs like alpha^2 (slope 1.99) and its softmax version, multi-head subspace self-attention, only like alpha (slope 0.99); a 4-layer CRATE learns the digits (about 90%) but its trained MSSA blocks do not lower R^c, training leaves its representations less compressed than at initialization, and inside it the Neumann approximation does not hold (alpha ||G|| about 100); over twelve small CRATEs the sparse rate reduction's Kendall tau with the generalization gap is positive at every seed but 0.06 to 0.64 (unrelated rankings: 0 +- 0.22), below the 0.85 of the number of training images",
        tests=("test_white_box.py",),
    ),
    Chapter(
        17,
        "17_convergence",
        "Global convergence, and architecture choice through the NTK",
        _VI,
        ("convergence",),
        "gradient descent on Du et al.'s two-layer ReLU network with a fixed readout converges at the rate 2 log(1 - eta lambda_min(H(0))) to within 9% from width 4096 up, Du et al.'s bound holds at every step from width 64 up and the fraction of flipped ReLU patterns falls like m^-1/2; at width 16 the rate falls short and a network can stall; the smallest eigenvalue of the empirical NTK at initialization ranks 16 architectures (activation, skips, depth) by trained test accuracy on the digits with Kendall's tau 0.43 to 0.60 (unrelated rankings: 0.19) and by training loss with 0.68 to 0.82, a signal carried by depth: depth alone ranks the accuracy with tau 0.68 to 0.74, and within depth 2 the eigenvalue ranks no better than chance",
        tests=("test_convergence.py",),
    ),
    Chapter(
        18,
        "18_length_generalization",
        "Length and compositional generalization",
        _VII,
        ("length_generalization",),
        "trained on the half-cube x1 = +1, interpolation with a kernel weighing degree k by eps^(2k) errs on the unseen half exactly as its closed form says (to 4e-12), rising to 4 Inf_1(f) as eps falls; a 3-layer ReLU network lands within 0.09 E f^2 of the min-degree interpolator over four seeds, a 2-layer one does not; a 2-layer transformer trained to copy up to 8 tokens copies 93 to 96% of 12-token sequences exactly with a local relative attention bias and none with learned absolute positions; at SCALE = 2 it checks the other schemes (sinusoids collapse like learned positions, ALiBi extrapolates in part, NoPE misses even the training lengths, a wider window does worse), width 32, and addition learned far faster with the sum reversed",
        tests=("test_length_generalization.py",),
    ),
    Chapter(
        19,
        "19_lottery",
        "Sparsity and lottery tickets",
        _VII,
        ("lottery",),
        "iterative magnitude pruning with rewinding, on small ReLU networks trained together in one batched product, finds tickets within 2.1 points of the dense accuracy at 94% sparsity (12 runs); they learn faster than the same masks re-initialized at 13% density and below (2 to 26 points ahead at step 200) and, with a global threshold, end 1 to 9 points more accurate at 97%; a global threshold prunes the middle layer 7 to 15 times harder than the first; at 50 to 13% density the re-initialized masks end more accurate than the tickets in all 36 runs, so here the advantage of the ticket is speed",
        tests=("test_lottery.py",),
    ),
    Chapter(
        20,
        "20_diffusion",
        "Memorization and generalization in diffusion models",
        _VII,
        ("diffusion",),
        "sampling with the optimal denoiser of a training set returns its points at every n (memorization fraction 0.99 to 1, median distance to the nearest training point 0); denoising networks of width 64 trained on 4 to 256 points of a ring of Gaussians copy small sets (0.84 to 0.99 of their samples at n = 4) and sit at the generalizing baseline 1/9 from n = 64 on, with the transition at n = 7 to 11; width 16 copies less, and so does a third of the training; on the 8x8 digits two denoisers trained on disjoint halves of 800 images give nearly the same sample from the same noise (A-B distance 0.21 to 0.23 of that of unrelated samples, against 0.52 to 0.56 for the optimal denoisers), while on halves of 8 they give different samples near their own half, few of them exact copies at this budget",
        tests=("test_diffusion.py",),
    ),
    Chapter(
        21,
        "21_where_theory_stands",
        "Where the theory stands",
        _VII,
        (),
        "every check of every chapter in one register, collected from the executed chapters by id (sortable and filterable, linked to each check), with its verdict at SCALE = 2 on the CPU and on a GPU; a map of the theorems' regimes against what the book verified; the negative results and the open questions",
        lesson=False,
        tests=("test_register.py",),
    ),
)


def chapter(key: int | str) -> Chapter:
    """The chapter of a number (``3``), a two-digit prefix (``"03"``) or a slug (``"03_ntk"``).

    Raises
    ------
    KeyError
        If no chapter matches, with the known slugs.

    Examples
    --------
    >>> chapter("03").title
    'The neural tangent kernel and lazy training'
    >>> chapter(21).lesson  # the closing chapter has no lesson
    False
    """
    for c in CHAPTERS:
        if key in (c.number, c.slug, f"{c.number:02d}", str(c.number)):
            return c
    raise KeyError(f"no chapter {key!r}; chapters: {', '.join(c.slug for c in CHAPTERS)}")


def written() -> tuple[Chapter, ...]:
    """The chapters that are written (in the book, the table of contents and the tests).

    Examples
    --------
    >>> [c.number for c in written()][:3]
    [1, 2, 3]
    """
    return tuple(c for c in CHAPTERS if c.written)
