"""media.folders lists a folder safely: links to themselves, loops of links, pipes, folders it may not read."""

import os

import pytest

import transforemotion as te
from transforemotion.media import folders


def make(path, data=b"x"):
    path.write_bytes(data)
    return str(path)


@pytest.fixture
def hostile(tmp_path):
    """A folder with one good file and every kind of entry that cannot be read or examined."""
    make(tmp_path / "good.jpg")
    os.symlink("self.jpg", tmp_path / "self.jpg")  # ln -s self.jpg self.jpg
    os.symlink("loop_b.jpg", tmp_path / "loop_a.jpg")
    os.symlink("loop_a.jpg", tmp_path / "loop_b.jpg")
    os.symlink("nowhere.jpg", tmp_path / "broken.jpg")
    os.mkfifo(tmp_path / "pipe.jpg")
    (tmp_path / "folder.jpg").mkdir()  # a folder is never a file, whatever it is called
    return tmp_path


@pytest.mark.parametrize("recursive", [False, True])
def test_every_entry_that_is_not_a_folder_is_listed_and_nothing_raises(hostile, recursive):
    found = folders.list_image_files(str(hostile), r"\.jpg$", recursive)
    names = [os.path.basename(p) for p in found]
    assert names == ["broken.jpg", "good.jpg", "loop_a.jpg", "loop_b.jpg", "pipe.jpg", "self.jpg"]


def test_linked_folders_are_followed_once_and_a_link_to_a_parent_ends(tmp_path):
    make(tmp_path / "top.jpg")
    (tmp_path / "real").mkdir()
    make(tmp_path / "real" / "deep.jpg")
    os.symlink(tmp_path / "real", tmp_path / "alias")  # the same folder under a second name
    os.symlink(tmp_path, tmp_path / "real" / "up")  # back to the top: an endless tree without a guard
    found = folders.list_image_files(str(tmp_path), r"\.jpg$", recursive=True)
    relative = sorted(os.path.relpath(p, tmp_path) for p in found)
    assert relative.count("top.jpg") == 1
    assert len(relative) == 2, relative  # top.jpg, and deep.jpg under one of its two names


def test_a_sub_folder_that_cannot_be_read_is_skipped_with_a_warning(tmp_path, monkeypatch):
    make(tmp_path / "a.jpg")
    (tmp_path / "locked").mkdir()
    make(tmp_path / "locked" / "hidden.jpg")
    real_scandir = os.scandir

    def scandir(path):
        # chmod 000 does not stop root, who runs these tests in CI: refuse the way the kernel would.
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(folders.os, "scandir", scandir)
    with pytest.warns(te.TransforemotionWarning, match=r"1 folder\(s\) under .* could not be read.*locked "
                                                       r"\(Permission denied\)"):
        found = folders.list_image_files(str(tmp_path), r"\.jpg$", recursive=True)
    assert [os.path.basename(p) for p in found] == ["a.jpg"]
    with pytest.raises(ValueError, match=r"locked cannot be read \(Permission denied\)"):
        folders.list_image_files(str(tmp_path / "locked"), r"\.jpg$")


def test_a_folder_that_is_a_link_loop_is_named(tmp_path):
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(ValueError, match=r"loop cannot be read \(Too many levels of symbolic links\)"):
        folders.list_image_files(str(tmp_path / "loop"), r"\.jpg$")


def test_subfolders_are_the_folders_and_links_to_folders(hostile):
    (hostile / "happy").mkdir()
    (hostile / ".hidden").mkdir()
    os.symlink(hostile / "happy", hostile / "glad")
    assert folders.list_subfolders(str(hostile)) == ["folder.jpg", "glad", "happy"]
