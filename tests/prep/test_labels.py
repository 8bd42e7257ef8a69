import pytest

from data_prep.labels import celeba_label, from_celeba, from_csv, from_folders, normalise_label


def test_folder_labels():
    assert from_folders("mustache/a.jpg") == "mustache"
    assert from_folders("x/Clean/b/c.png") == "clean"
    assert from_folders("moustache/2020/c.png") == "mustache"
    assert from_folders("a.jpg") is None
    assert from_folders("1/a.jpg") is None  # digits are not folder labels


def test_csv_labels(tmp_path):
    p = tmp_path / "l.csv"
    p.write_text("file,label\nimages/A/A_0001.jpg,mustache\nb.jpg,clean\nc.jpg,\n")
    f = from_csv(p)
    assert f("A/A_0001.jpg") == "mustache"  # matched by file name
    assert f("sub/b.jpg") == "clean"
    assert f("c.jpg") is None and f("zzz.jpg") is None
    bad = tmp_path / "bad.csv"
    bad.write_text("name,y\n")
    with pytest.raises(ValueError, match="file.*label"):
        from_csv(bad)
    with pytest.raises(ValueError, match="unknown label"):
        normalise_label("beard")


def test_celeba_labels(tmp_path):
    p = tmp_path / "attrs.txt"
    p.write_text("3\nMustache Goatee No_Beard\n"
                 "000001.jpg  1 -1 -1\n000002.jpg -1 -1  1\n000003.jpg -1  1 -1\n")
    f = from_celeba(p)
    assert [f("000001.jpg"), f("000002.jpg"), f("000003.jpg")] == ["mustache", "clean", None]
    assert celeba_label({"Mustache": -1, "Goatee": -1, "No_Beard": -1}) is None  # beard
