"""Template filters that show personal values masked."""

from django import template

from collections_app import masking

register = template.Library()

register.filter("mask_name", masking.mask_name)
register.filter("mask_phone", masking.mask_phone)
register.filter("mask_id_number", masking.mask_id_number)
