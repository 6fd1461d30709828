"""Where generative models plug into DRL: one small file per integration, each a part that
an unchanged algorithm receives through its constructor (named in configs as
``parts.<slot>.name``)."""
