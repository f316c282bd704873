"""The one masking helper, as code and as template filters."""

from django.template import Context, Template

from collections_app.masking import mask_id_number, mask_name, mask_phone


def test_names_keep_only_their_first_character() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("张三丰") == "张**"
    assert mask_name("李") == "李*"
    assert mask_name("") == ""


def test_phones_keep_the_first_three_and_last_four_digits() -> None:
    assert mask_phone("+8613812345678") == "138****5678"
    assert mask_phone("+14155550123").endswith("0123")
    assert "5550" not in mask_phone("+14155550123")
    assert mask_phone("12345") == "*****"


def test_id_numbers_keep_the_first_and_last_four() -> None:
    assert mask_id_number("110101199003074514") == "1101**********4514"
    assert mask_id_number("1234567") == "*******"


def test_template_filters_use_the_same_helper() -> None:
    template = Template("{% load masking %}{{ n|mask_name }} {{ p|mask_phone }} {{ i|mask_id_number }}")
    rendered = template.render(Context({"n": "王小明", "p": "+8613912345678", "i": "110101199003074514"}))
    assert rendered == "王** 139****5678 1101**********4514"
