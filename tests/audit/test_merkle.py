"""RFC 9162 Merkle hashing checked by hand and against the published Certificate Transparency test vectors."""

import hashlib

import pytest

from audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    RangeRoots,
    consistency_holds,
    consistency_path,
    consistency_ranges,
    inclusion_path,
    leaf_hash,
    root_from_inclusion_path,
    root_from_leaf_hashes,
)

# The leaves and roots used by the Certificate Transparency reference implementations' tests.
CT_LEAVES = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def test_root_of_three_leaves_matches_a_hand_computation() -> None:
    a, b, c = b"alpha", b"beta", b"gamma"
    # RFC 9162 2.1.1: n=3 splits at k=2: MTH = H(0x01 || H(0x01 || H(0x00||a) || H(0x00||b)) || H(0x00||c)).
    expected = sha(b"\x01" + sha(b"\x01" + sha(b"\x00" + a) + sha(b"\x00" + b)) + sha(b"\x00" + c))
    assert root_from_leaf_hashes([leaf_hash(a), leaf_hash(b), leaf_hash(c)]) == expected


def test_empty_tree_root_is_the_hash_of_nothing() -> None:
    assert root_from_leaf_hashes([]) == EMPTY_ROOT == sha(b"")


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_certificate_transparency_vectors(size: int) -> None:
    leaves = [leaf_hash(bytes.fromhex(value)) for value in CT_LEAVES[:size]]
    assert root_from_leaf_hashes(leaves).hex() == CT_ROOTS[size - 1]


def test_frontier_gives_the_same_root_at_every_size() -> None:
    frontier = Frontier()
    leaves = []
    for n in range(1, 70):
        leaves.append(leaf_hash(n.to_bytes(4, "big")))
        frontier.append(leaves[-1])
        assert frontier.root() == root_from_leaf_hashes(leaves)
        restored = Frontier.from_bytes(frontier.size, frontier.to_bytes())
        assert restored.root() == frontier.root()


@pytest.mark.parametrize("chunks", [[1] * 9, [8, 1], [3, 5, 8, 16, 1], [0, 37], [5, 0, 2, 64, 7], [129]])
def test_extending_a_frontier_in_runs_gives_the_roots_of_appending_leaf_by_leaf(chunks: list[int]) -> None:
    leaves = [leaf_hash(n.to_bytes(4, "big")) for n in range(sum(chunks))]
    extended, done = Frontier(), 0
    for chunk in chunks:
        extended.extend(leaves[done : done + chunk])
        done += chunk
        assert extended.size == done
        assert extended.root() == root_from_leaf_hashes(leaves[:done])
        assert Frontier.from_bytes(done, extended.to_bytes()).root() == extended.root()


def test_inclusion_path_of_leaf_two_in_a_tree_of_three_is_its_sibling_then_the_left_subtree() -> None:
    leaves = [leaf_hash(x) for x in (b"alpha", b"beta", b"gamma")]
    # Leaf index 2 (gamma) is alone on the right; its only sibling is the root of the left pair.
    assert inclusion_path(leaves, 2) == [sha(b"\x01" + leaves[0] + leaves[1])]
    assert inclusion_path(leaves, 0) == [leaves[1], leaves[2]]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13, 16, 17])
def test_every_inclusion_path_leads_to_the_root(size: int) -> None:
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(size)]
    root = root_from_leaf_hashes(leaves)
    for index in range(size):
        path = inclusion_path(leaves, index)
        assert root_from_inclusion_path(index, size, leaves[index], path) == root


def test_an_altered_path_or_wrong_index_does_not_lead_to_the_root() -> None:
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(7)]
    root = root_from_leaf_hashes(leaves)
    path = inclusion_path(leaves, 3)
    forged = [path[0], bytes(32), *path[2:]]
    assert root_from_inclusion_path(3, 7, leaves[3], forged) != root
    assert root_from_inclusion_path(4, 7, leaves[3], path) != root
    assert root_from_inclusion_path(3, 7, leaves[3], [*path, bytes(32)]) is None
    assert root_from_inclusion_path(7, 7, leaves[3], path) is None


# Consistency proofs of the Certificate Transparency reference tests over CT_LEAVES: (old size, new size, path).
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY)
def test_consistency_paths_match_the_certificate_transparency_vectors(old: int, new: int, expected: list) -> None:
    leaves = [leaf_hash(bytes.fromhex(value)) for value in CT_LEAVES[:new]]
    path = consistency_path(leaves, old)
    assert [node.hex() for node in path] == expected
    assert consistency_holds(old, new, bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1]), path)


def test_every_consistency_path_holds_and_any_cut_or_change_does_not() -> None:
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(33)]
    for new in range(1, 34):
        for old in range(1, new + 1):
            old_root, new_root = root_from_leaf_hashes(leaves[:old]), root_from_leaf_hashes(leaves[:new])
            path = consistency_path(leaves[:new], old)
            assert consistency_holds(old, new, old_root, new_root, path), (old, new)
            assert not consistency_holds(old, new, new_root if old != new else bytes(32), new_root, path)
            for cut in range(len(path)):
                assert not consistency_holds(old, new, old_root, new_root, path[:cut] + path[cut + 1 :]), (old, new)
                changed = [*path[:cut], bytes(32), *path[cut + 1 :]]
                assert not consistency_holds(old, new, old_root, new_root, changed), (old, new, cut)


def test_a_frontier_streamed_by_ranges_gives_the_proof_without_the_old_leaves() -> None:
    leaves = [leaf_hash(n.to_bytes(2, "big")) for n in range(40)]
    for old in (1, 5, 8, 13, 32):
        ranges = consistency_ranges(old, 40)
        frontier = Frontier()
        frontier.extend(leaves[:old])
        old_nodes = {(lo, hi): root for lo, hi, root in frontier.subtrees()}
        streamed = RangeRoots([node for node in ranges if node[0] >= old], start=old)
        for start in range(old, 40, 3):
            streamed.extend(leaves[start : start + 3])
        nodes = {**old_nodes, **streamed.roots()}
        assert [nodes[node] for node in ranges] == consistency_path(leaves, old)
