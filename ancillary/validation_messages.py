"""marshmallow's and webargs' own error messages, listed so the catalogue translates them."""


from ancillary.display_names import N_

MESSAGES = [
    N_("Missing data for required field."),
    N_("Unknown field."),
    N_("Field may not be null."),
    N_("Not a valid integer."),
    N_("Not a valid number."),
    N_("Not a valid string."),
    N_("Not a valid boolean."),
    N_("Not a valid datetime."),
    N_("Not a valid date."),
    N_("Not a valid list."),
    N_("Not a valid email address."),
    N_("Not a valid mapping type."),
    N_("Invalid input type."),
    N_("Invalid value."),
    N_("Not a time of day written HH:MM."),
    N_("Date out of range (2000-2100)."),
    N_("Not a valid aware datetime."),
    N_("Give latitude and longitude together."),
    N_("Must be later than opens."),
    N_("Must not be before from."),
    N_("The window may span at most ten years."),
    N_("Invalid JSON body."),
]
