"""Text for people: the zorgnota and the auditor's reports as a terminal shows them."""
